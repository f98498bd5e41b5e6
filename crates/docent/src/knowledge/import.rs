//! Bulk import formats for the corpus and the catalog: CSV with a header row (RFC 4180, UTF-8)
//! or NDJSON. Parsing reports every rejected row with its number and reason; the caller writes
//! nothing unless every row is valid.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// A row that could not be imported. `row` counts data rows from 1 (the header is not a row).
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Rejected {
    pub row: usize,
    pub error: String,
}

/// Parsed rows, each with its row number.
type Objects = Vec<(usize, Map<String, Value>)>;
/// Parsed rows, or every rejected row.
type Rows = Result<Objects, Vec<Rejected>>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Ndjson,
}

impl Format {
    /// From `?format=`, else the content type, else sniffing the first byte.
    pub fn detect(query: Option<&str>, content_type: Option<&str>, body: &[u8]) -> Result<Self, String> {
        match query.map(str::to_ascii_lowercase).as_deref() {
            Some("csv") => return Ok(Format::Csv),
            Some("ndjson" | "jsonl") => return Ok(Format::Ndjson),
            Some(other) => return Err(format!("unknown format `{other}`; use csv or ndjson")),
            None => {}
        }
        let ct = content_type.unwrap_or_default();
        if ct.contains("csv") {
            return Ok(Format::Csv);
        }
        if ct.contains("ndjson") || ct.contains("jsonl") || ct.contains("json") {
            return Ok(Format::Ndjson);
        }
        let first = body.iter().find(|b| !b.is_ascii_whitespace());
        Ok(if first == Some(&b'{') { Format::Ndjson } else { Format::Csv })
    }
}

/// Parses rows into `T` (through JSON objects), with `list_columns` split on `;` or `|` in CSV.
/// `columns` are the CSV columns allowed, `required` those that must be present.
pub fn parse<T: DeserializeOwned>(
    body: &[u8],
    format: Format,
    columns: &[&str],
    required: &[&str],
    list_columns: &[&str],
    max_rows: usize,
) -> Result<Vec<(usize, T)>, Vec<Rejected>> {
    let text = std::str::from_utf8(body).map_err(|e| {
        vec![Rejected { row: 0, error: format!("the file is not valid UTF-8 (byte {})", e.valid_up_to()) }]
    })?;
    let (objects, mut rejected) = match format {
        Format::Ndjson => ndjson(text, max_rows)?,
        Format::Csv => (csv_rows(text, columns, required, list_columns, max_rows)?, Vec::new()),
    };
    let mut rows = Vec::with_capacity(objects.len());
    for (row, object) in objects {
        match serde_json::from_value::<T>(Value::Object(object)) {
            Ok(v) => rows.push((row, v)),
            Err(e) => rejected.push(Rejected { row, error: e.to_string() }),
        }
    }
    rejected.sort_by_key(|r| r.row);
    if rejected.is_empty() { Ok(rows) } else { Err(rejected) }
}

fn too_many(max_rows: usize) -> Vec<Rejected> {
    vec![Rejected { row: max_rows + 1, error: format!("at most {max_rows} rows per import") }]
}

/// Lines that parse as objects, and the lines that do not (reported with the rest).
fn ndjson(text: &str, max_rows: usize) -> Result<(Objects, Vec<Rejected>), Vec<Rejected>> {
    let mut out = Vec::new();
    let mut rejected = Vec::new();
    for (i, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        if i >= max_rows {
            return Err(too_many(max_rows));
        }
        match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(o)) => out.push((i + 1, o)),
            Ok(_) => rejected.push(Rejected { row: i + 1, error: "each line must be a JSON object".to_owned() }),
            Err(e) => rejected.push(Rejected { row: i + 1, error: format!("invalid JSON: {e}") }),
        }
    }
    Ok((out, rejected))
}

fn csv_rows(text: &str, columns: &[&str], required: &[&str], list_columns: &[&str], max_rows: usize) -> Rows {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| vec![Rejected { row: 0, error: format!("unreadable header row: {e}") }])?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_owned())
        .collect();
    let expected = columns.join(",");
    for h in &header {
        if !columns.contains(&h.as_str()) {
            return Err(vec![Rejected { row: 0, error: format!("unknown column `{h}`; columns: {expected}") }]);
        }
    }
    for r in required {
        if !header.iter().any(|h| h == r) {
            return Err(vec![Rejected { row: 0, error: format!("missing column `{r}`; columns: {expected}") }]);
        }
    }
    let mut out = Vec::new();
    let mut rejected = Vec::new();
    for (i, record) in reader.records().enumerate() {
        if i >= max_rows {
            return Err(too_many(max_rows));
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                rejected.push(Rejected { row: i + 1, error: format!("malformed CSV: {e}") });
                continue;
            }
        };
        let mut object = Map::new();
        for (name, value) in header.iter().zip(record.iter()) {
            if value.is_empty() {
                continue;
            }
            let v = if list_columns.contains(&name.as_str()) {
                Value::Array(
                    value.split([';', '|']).map(str::trim).filter(|s| !s.is_empty()).map(Value::from).collect(),
                )
            } else if let Ok(n) = value.trim().parse::<i64>() {
                // Numeric cells stay numbers for numeric fields; text fields accept them back as text.
                if name == "priority" || name == "price" { Value::from(n) } else { Value::from(value) }
            } else if name == "inStock" {
                Value::Bool(matches!(value.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes"))
            } else {
                Value::from(value)
            };
            object.insert(name.clone(), v);
        }
        out.push((i + 1, object));
    }
    if rejected.is_empty() { Ok(out) } else { Err(rejected) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    struct Row {
        title: String,
        #[allow(dead_code)]
        content: String,
        priority: Option<i64>,
        #[serde(default)]
        tags: Vec<String>,
    }

    const COLS: [&str; 5] = ["title", "content", "segment", "priority", "tags"];

    #[test]
    fn csv_rows_are_parsed_with_quoting_lists_and_numbers() {
        let csv = "title,content,priority,tags\n\"Hours, and more\",\"We open at \"\"9\"\"\",7,a;b\n";
        let rows: Vec<(usize, Row)> =
            parse(csv.as_bytes(), Format::Csv, &COLS, &["title", "content"], &["tags"], 10).unwrap();
        assert_eq!(rows[0].1.title, "Hours, and more");
        assert_eq!(rows[0].1.priority, Some(7));
        assert_eq!(rows[0].1.tags, ["a", "b"]);
    }

    #[test]
    fn wrong_columns_broken_quoting_and_bad_utf8_are_reported() {
        let err = parse::<Row>(b"title,body\nx,y\n", Format::Csv, &COLS, &["title", "content"], &[], 10).unwrap_err();
        assert!(err[0].error.contains("unknown column `body`"));
        let err = parse::<Row>(b"title,content\n\"x,y\nz,w\n", Format::Csv, &COLS, &["title", "content"], &[], 10)
            .unwrap_err();
        assert!(!err.is_empty());
        let err =
            parse::<Row>(b"title,content\n\xff,y\n", Format::Csv, &COLS, &["title", "content"], &[], 10).unwrap_err();
        assert!(err[0].error.contains("UTF-8"));
        let err = parse::<Row>(b"{\"title\": 1}\nnot json\n", Format::Ndjson, &COLS, &[], &[], 10).unwrap_err();
        let rows: Vec<usize> = err.iter().map(|r| r.row).collect();
        assert_eq!(rows, [1, 2], "both the mistyped and the unparsable line");
    }
}
