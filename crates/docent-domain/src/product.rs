//! The product catalog that RECOMMEND_PRODUCT searches. Prices are integer cents and always come
//! from here, never from the model.

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::ProductId;
use crate::Timestamp;
use crate::validate::{self, ValidationError, double_option};

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    pub id: ProductId,
    pub sku: String,
    pub name: String,
    pub description: Option<String>,
    /// Integer cents.
    pub price: i64,
    pub currency: String,
    pub url: Option<String>,
    pub image_url: Option<String>,
    pub tags: Vec<String>,
    pub in_stock: bool,
    #[schema(value_type = Object)]
    pub attributes: Value,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProductIn {
    pub sku: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Integer cents (≥ 0).
    pub price: i64,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub image_url: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub in_stock: Option<bool>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<Value>,
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProductPatch {
    pub sku: Option<String>,
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    pub price: Option<i64>,
    pub currency: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub url: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub image_url: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
    pub in_stock: Option<bool>,
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<Value>,
}

/// A product's fields after validation.
#[derive(Clone, Debug, PartialEq)]
pub struct ProductFields {
    pub sku: String,
    pub name: String,
    pub description: Option<String>,
    pub price: i64,
    pub currency: String,
    pub url: Option<String>,
    pub image_url: Option<String>,
    pub tags: Vec<String>,
    pub in_stock: bool,
    pub attributes: Value,
}

impl ProductIn {
    pub fn into_fields(self) -> Result<ProductFields, ValidationError> {
        validate_product(ProductFields {
            sku: self.sku,
            name: self.name,
            description: self.description,
            price: self.price,
            currency: self.currency.unwrap_or_else(|| "EUR".to_owned()),
            url: self.url,
            image_url: self.image_url,
            tags: self.tags,
            in_stock: self.in_stock.unwrap_or(true),
            attributes: self.attributes.unwrap_or_else(|| Value::Object(Default::default())),
        })
    }
}

impl ProductPatch {
    pub fn apply(self, p: &Product) -> Result<ProductFields, ValidationError> {
        validate_product(ProductFields {
            sku: self.sku.unwrap_or_else(|| p.sku.clone()),
            name: self.name.unwrap_or_else(|| p.name.clone()),
            description: self.description.unwrap_or_else(|| p.description.clone()),
            price: self.price.unwrap_or(p.price),
            currency: self.currency.unwrap_or_else(|| p.currency.clone()),
            url: self.url.unwrap_or_else(|| p.url.clone()),
            image_url: self.image_url.unwrap_or_else(|| p.image_url.clone()),
            tags: self.tags.unwrap_or_else(|| p.tags.clone()),
            in_stock: self.in_stock.unwrap_or(p.in_stock),
            attributes: self.attributes.unwrap_or_else(|| p.attributes.clone()),
        })
    }
}

fn is_url(u: &str) -> bool {
    u.starts_with("https://") || u.starts_with("http://") || u.starts_with('/')
}

pub fn validate_product(mut f: ProductFields) -> Result<ProductFields, ValidationError> {
    f.sku = f.sku.trim().to_owned();
    let sku_ok = !f.sku.is_empty()
        && f.sku.len() <= 100
        && f.sku.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b));
    if !sku_ok {
        return Err(ValidationError::new("sku", "sku must be 1-100 characters of letters, digits, - _ . /"));
    }
    validate::required("name", &f.name, 300)?;
    validate::optional_max_len("description", f.description.as_deref(), 10_000)?;
    if f.price < 0 {
        return Err(ValidationError::new("price", "price must be a non-negative integer number of cents"));
    }
    f.currency = f.currency.trim().to_uppercase();
    if f.currency.len() != 3 || !f.currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(ValidationError::new("currency", "currency must be a three-letter code like EUR"));
    }
    for (field, url) in [("url", &f.url), ("imageUrl", &f.image_url)] {
        if let Some(u) = url {
            validate::max_len(field, u, 2_000)?;
            if !is_url(u) {
                return Err(ValidationError::new(field, format!("{field} must be an http(s) URL or a path")));
            }
        }
    }
    let (_, tags) = crate::corpus::validate_entry("x", "x", None, &f.tags, None, None)
        .map_err(|e| ValidationError::new("tags", e.message))?;
    f.tags = tags;
    if !f.attributes.is_object() || f.attributes.to_string().len() > 16 * 1024 {
        return Err(ValidationError::new("attributes", "attributes must be a JSON object of at most 16 KiB"));
    }
    Ok(f)
}
