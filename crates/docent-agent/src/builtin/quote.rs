//! The built-in engine's GENERATE_QUOTE flow, deterministic: once the visitor asks for a quote
//! ("quote", "devis", "estimate"), it reads the items named in their messages (by sku or label,
//! with the number written just before, else 1; the last mention of an item wins), asks for
//! them if none is named, then asks each required field in turn (engine mode: name and email;
//! legacy mode: the request's fields), and calls the tool. Prices are never its business: the
//! tool's result carries them.

use docent_llm::{Message, ToolSpec};
use serde_json::{Map, Value, json};

use super::{Reply, any, fold};

const INTENT: [&str; 7] = ["quote", "devis", "estimate", "estimation", "chiffrage", "cotation", "quotation"];
/// How the engine's replies after a finished quote start: a quote flow ends there.
const DONE: [&str; 4] =
    ["Your quote ", "Votre devis ", "Thank you! Your quote request", "Merci ! Votre demande de devis"];

struct Field {
    name: String,
    label: String,
    email: bool,
}

/// The next step of a quote under way, or `None` when the visitor has not asked for one since
/// the last quote finished.
pub(super) fn drive(spec: &ToolSpec, messages: &[Message], fr: bool) -> Option<Reply> {
    let start = messages
        .iter()
        .rposition(|m| matches!(m, Message::Assistant { text, .. } if DONE.iter().any(|d| text.starts_with(d))))
        .map_or(0, |i| i + 1);
    let window = &messages[start..];
    let asked_for_quote = window.iter().any(|m| matches!(m, Message::User { text } if any(&fold(text), &INTENT)));
    if !asked_for_quote {
        return None;
    }
    let properties = spec.input_schema["properties"].as_object()?;
    let mut args = Map::new();
    if properties.contains_key("items") {
        let catalogue = catalogue(&spec.input_schema);
        let items = items_in(window, &catalogue);
        if items.is_empty() {
            return Some(Reply::Say(ask_items(&catalogue, fr)));
        }
        args.insert("items".to_owned(), Value::Array(items));
    }
    let fields = fields(&spec.input_schema, properties.contains_key("items"));
    let mut asked: Option<&Field> = None;
    let mut rejected: Option<&Field> = None;
    for m in window {
        match m {
            Message::Assistant { text, .. } => {
                asked =
                    fields.iter().find(|f| text.ends_with(&question(f, false)) || text.ends_with(&question(f, true)));
            }
            Message::User { text } => {
                rejected = None;
                if let Some(f) = asked.take() {
                    let value = text.trim();
                    if f.email && !docent_domain::validate::is_email(value) {
                        rejected = Some(f);
                    } else if !value.is_empty() {
                        args.insert(f.name.clone(), Value::String(value.to_owned()));
                    }
                }
                let email = text
                    .split_whitespace()
                    .map(|w| w.trim_matches(['.', ',', '!', ';']))
                    .find(|w| docent_domain::validate::is_email(w));
                if let (Some(email), Some(f)) = (email, fields.iter().find(|f| f.email)) {
                    args.entry(f.name.clone()).or_insert_with(|| Value::String(email.to_owned()));
                }
            }
            Message::Tool { .. } => {}
        }
    }
    match fields.iter().find(|f| !args.contains_key(&f.name)) {
        Some(f) => {
            let intro = match (rejected, fr) {
                (Some(bad), false) => format!("That doesn't look like a valid {}. ", bad.label),
                (Some(bad), true) => format!("Ce {} ne semble pas valide. ", bad.label),
                (None, _) => String::new(),
            };
            Some(Reply::Say(format!("{intro}{}", question(f, fr))))
        }
        None => Some(Reply::Call(spec.name.clone(), Value::Object(args))),
    }
}

/// What the engine says once the tool ran: the quote as the server computed it, or the refusal.
pub(super) fn after(content: &str, is_error: bool, fr: bool) -> String {
    let first = content.split("\n\n").next().unwrap_or(content);
    match (is_error, fr) {
        (true, false) => format!("Sorry, I could not prepare that quote. {first}"),
        (true, true) => format!("Désolé, je n'ai pas pu préparer ce devis. {first}"),
        (false, _) if !first.starts_with("Your quote ") => match fr {
            false => "Thank you! Your quote request has been sent; the team will get back to you with a quote soon."
                .to_owned(),
            true => {
                "Merci ! Votre demande de devis a été transmise ; l'équipe vous enverra un devis rapidement.".to_owned()
            }
        },
        (false, false) => first.to_owned(),
        (false, true) => format!("Votre devis est prêt. {first}"),
    }
}

fn question(f: &Field, fr: bool) -> String {
    if fr {
        format!("Pour le devis, quel est votre {} ?", f.label)
    } else {
        format!("For the quote, what is your {}?", f.label)
    }
}

/// `(sku, label)` pairs from the engine schema (the sku enum and the catalogue lines).
fn catalogue(schema: &Value) -> Vec<(String, String)> {
    let items = &schema["properties"]["items"];
    let description = items["description"].as_str().unwrap_or_default();
    let skus = items["items"]["properties"]["sku"]["enum"].as_array().cloned().unwrap_or_default();
    skus.iter()
        .filter_map(Value::as_str)
        .map(|sku| {
            let prefix = format!("- {sku}: ");
            let label = description
                .lines()
                .find_map(|l| l.strip_prefix(&prefix))
                .map(|l| l.rsplit_once(" [").map_or(l, |(label, _)| label))
                .unwrap_or(sku);
            (sku.to_owned(), label.to_owned())
        })
        .collect()
}

fn ask_items(catalogue: &[(String, String)], fr: bool) -> String {
    let labels: Vec<&str> = catalogue.iter().map(|(_, label)| label.as_str()).collect();
    if fr {
        format!("Avec plaisir. Que souhaitez-vous faire chiffrer, et en quelle quantité ? {}.", labels.join(", "))
    } else {
        format!("Sure. Which of these would you like a quote for, and how many? {}.", labels.join(", "))
    }
}

/// The items named in the visitor's messages, in order of first mention.
fn items_in(window: &[Message], catalogue: &[(String, String)]) -> Vec<Value> {
    let mut found: Vec<(String, i64)> = Vec::new();
    for m in window {
        let Message::User { text } = m else { continue };
        let text = fold(text);
        for (sku, label) in catalogue {
            let hit = [fold(sku), fold(label)].into_iter().find_map(|needle| text.find(&needle));
            let Some(at) = hit else { continue };
            let quantity = quantity_before(&text[..at]);
            match found.iter_mut().find(|(s, _)| s == sku) {
                Some(entry) => entry.1 = quantity,
                None => found.push((sku.clone(), quantity)),
            }
        }
    }
    found.into_iter().map(|(sku, quantity)| json!({"sku": sku, "quantity": quantity})).collect()
}

/// The number written just before a mention ("3 extra pages"), else 1.
fn quantity_before(text: &str) -> i64 {
    text.split_whitespace().next_back().and_then(|w| w.parse::<i64>().ok()).unwrap_or(1)
}

/// The fields to ask for, required ones in the schema's order (the items are read, not asked).
fn fields(schema: &Value, engine: bool) -> Vec<Field> {
    let required = schema["required"].as_array().cloned().unwrap_or_default();
    required
        .iter()
        .filter_map(Value::as_str)
        .filter(|name| *name != "items")
        .map(|name| {
            let p = &schema["properties"][name];
            let label = match p["description"].as_str() {
                Some(d) if !engine => d.to_owned(),
                _ => name.replace('_', " "),
            };
            Field { name: name.to_owned(), label, email: p["format"] == "email" }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::quote::schema;

    fn user(t: &str) -> Message {
        Message::User { text: t.to_owned() }
    }

    fn assistant(t: &str) -> Message {
        Message::Assistant { text: t.to_owned(), tool_calls: vec![] }
    }

    fn spec() -> ToolSpec {
        let config = json!({"pricing": {"items": [
            {"sku": "site-vitrine", "label": "5-page website", "unit": 150000, "per": "flat"},
            {"sku": "page-supp", "label": "Extra page", "unit": 12000, "per": "unit", "max": 20}]}});
        ToolSpec { name: "generate_quote".into(), description: String::new(), input_schema: schema(&config) }
    }

    fn said(r: Option<Reply>) -> String {
        match r {
            Some(Reply::Say(s)) => s,
            Some(Reply::Call(n, _)) => panic!("called {n}"),
            None => panic!("no quote flow"),
        }
    }

    #[test]
    fn a_quote_request_reads_items_asks_name_and_email_then_calls_the_tool() {
        let mut msgs = vec![user("Could I get a quote for a 5-page website and 3 extra pages?")];
        let ask = said(drive(&spec(), &msgs, false));
        assert_eq!(ask, "For the quote, what is your name?");
        msgs.extend([assistant(&ask), user("Ann Martin")]);
        let ask = said(drive(&spec(), &msgs, false));
        assert_eq!(ask, "For the quote, what is your email?");
        msgs.extend([assistant(&ask), user("nope")]);
        assert!(said(drive(&spec(), &msgs, false)).starts_with("That doesn't look like a valid email."));
        msgs.extend([assistant("For the quote, what is your email?"), user("ann@example.com")]);
        match drive(&spec(), &msgs, false) {
            Some(Reply::Call(name, args)) => {
                assert_eq!(name, "generate_quote");
                assert_eq!(
                    args,
                    json!({"items": [{"sku": "site-vitrine", "quantity": 1}, {"sku": "page-supp", "quantity": 3}],
                           "name": "Ann Martin", "email": "ann@example.com"})
                );
            }
            _ => panic!("no call"),
        }
    }

    #[test]
    fn without_items_it_lists_the_catalogue_and_without_intent_it_stays_out() {
        assert!(drive(&spec(), &[user("hello")], false).is_none());
        let ask = said(drive(&spec(), &[user("Je voudrais un devis")], true));
        assert!(ask.contains("5-page website, Extra page"), "{ask}");
        let done = [user("a quote for page-supp"), assistant("Your quote Q-2026-0001: ..."), user("thanks")];
        assert!(drive(&spec(), &done, false).is_none(), "a finished quote closes the flow");
    }

    #[test]
    fn the_result_is_relayed_as_the_server_computed_it() {
        let ok = "Your quote Q-2026-0001: 1 x Site = 1,500.00 EUR.\n\nInstructions for the model.";
        assert_eq!(after(ok, false, false), "Your quote Q-2026-0001: 1 x Site = 1,500.00 EUR.");
        assert!(after("The quote was not generated: page-supp allows at most 20", true, false).contains("at most 20"));
    }
}
