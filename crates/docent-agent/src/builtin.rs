//! The built-in engine (`llmProvider: "builtin"`): no key, no network. It is a retrieval engine
//! with intent rules, not a language model: it answers extractively from the knowledge placed in
//! its context, greets with the segment's welcome message, says plainly when it does not know,
//! and drives tools by clear intents — "talk to a human" escalates, "remember that my X is Y"
//! remembers, a contact request collects the form's required fields one by one, then submits.
//! A quote request drives GENERATE_QUOTE (`builtin/quote.rs`).

use docent_llm::{
    ChatRequest, LlmError, LlmProvider, LlmStream, Message, Snippet, StopReason, StreamEvent, ToolCall, ToolSpec, Usage,
};
use serde_json::{Map, Value, json};

mod quote;

/// What the engine knows besides the request: the persona's greeting and language.
#[derive(Clone, Debug)]
pub struct Builtin {
    pub welcome: Option<String>,
    pub locale: String,
}

pub const MODEL: &str = "docent-builtin-1";

#[async_trait::async_trait]
impl LlmProvider for Builtin {
    fn name(&self) -> &str {
        "builtin"
    }

    fn reads_knowledge(&self) -> bool {
        true
    }

    async fn stream(&self, request: &ChatRequest) -> Result<LlmStream, LlmError> {
        let reply = self.reply(request);
        let mut events: Vec<Result<StreamEvent, LlmError>> = Vec::new();
        let stop = match reply {
            Reply::Say(text) => {
                // Word by word, as a model would stream.
                let mut rest = text.as_str();
                while !rest.is_empty() {
                    let cut = rest.find(' ').map_or(rest.len(), |i| i + 1);
                    events.push(Ok(StreamEvent::Text(rest[..cut].to_owned())));
                    rest = &rest[cut..];
                }
                StopReason::EndTurn
            }
            Reply::Call(name, arguments) => {
                events.push(Ok(StreamEvent::ToolCall(ToolCall { id: format!("call_{name}"), name, arguments })));
                StopReason::ToolUse
            }
        };
        events.push(Ok(StreamEvent::Done { stop, usage: Usage::default(), model: Some(MODEL.to_owned()) }));
        Ok(Box::pin(futures::stream::iter(events)))
    }
}

enum Reply {
    Say(String),
    Call(String, Value),
}

fn fold(text: &str) -> String {
    text.chars().flat_map(docent_domain::slug::fold_accent).flat_map(char::to_lowercase).collect()
}

fn words(text: &str) -> Vec<String> {
    fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 2 && !docent_search::is_stopword(w))
        .map(str::to_owned)
        .collect()
}

const FRENCH_MARKERS: [&str; 14] =
    ["bonjour", "merci", "je", "vous", "est", "les", "des", "quels", "quel", "pour", "votre", "mon", "suis", "parler"];

fn tool<'a>(tools: &'a [ToolSpec], prefix: &str) -> Option<&'a ToolSpec> {
    tools.iter().find(|t| t.name.starts_with(prefix))
}

fn any(text: &str, needles: &[&str]) -> bool {
    needles.iter().any(|n| text.contains(n))
}

impl Builtin {
    fn french(&self, question: &str) -> bool {
        let w = words(question);
        let hits = w.iter().filter(|x| FRENCH_MARKERS.contains(&x.as_str())).count();
        hits > 0 || (w.is_empty() && self.locale.starts_with("fr"))
    }

    fn reply(&self, r: &ChatRequest) -> Reply {
        let question = r.messages.iter().rev().find_map(|m| match m {
            Message::User { text } => Some(text.as_str()),
            _ => None,
        });
        let fr = self.french(question.unwrap_or_default());
        if let Some(Message::Tool { name, content, is_error, .. }) = r.messages.last() {
            if name.starts_with("generate_quote") {
                return Reply::Say(quote::after(content, *is_error, fr));
            }
            if name == "explore_corpus" && !*is_error {
                return Reply::Say(from_explored(content, question.unwrap_or_default(), fr));
            }
            if name == "recommend_product" && !*is_error {
                return Reply::Say(from_catalog(content, fr));
            }
            return Reply::Say(after_tool(name, content, *is_error, fr));
        }
        let Some(question) = question else {
            return Reply::Say(self.welcome_text(fr));
        };
        let q = fold(question);
        if let Some(t) = tool(&r.tools, "generate_quote")
            && let Some(reply) = quote::drive(t, &r.messages, fr)
        {
            return reply;
        }
        if let Some(form) = tool(&r.tools, "submit_form")
            && let Some(reply) = collect_form(form, &r.messages, &q, fr)
        {
            return reply;
        }
        if let Some(t) = tool(&r.tools, "escalate_to_human")
            && any(
                &q,
                &["human", "person", "someone", "agent humain", "humain", "conseiller", "quelqu'un", "real person"],
            )
        {
            return Reply::Call(t.name.clone(), json!({"reason": question.chars().take(500).collect::<String>()}));
        }
        if let Some(t) = tool(&r.tools, "remember_fact")
            && let Some((key, value)) = fact_to_remember(question)
        {
            return Reply::Call(t.name.clone(), json!({"key": key, "value": value}));
        }
        if let Some(answer) = recall(&q, &r.knowledge, fr) {
            return Reply::Say(answer);
        }
        if let Some(t) = tool(&r.tools, "recommend_product")
            && any(&q, PRODUCT_INTENTS)
        {
            return Reply::Call(t.name.clone(), json!({"query": question.chars().take(300).collect::<String>()}));
        }
        let short = q.split_whitespace().count() <= 4;
        if short && (any(&q, &["hello", "hi ", "hey", "bonjour", "salut", "good morning"]) || q.trim() == "hi") {
            return Reply::Say(self.welcome_text(fr));
        }
        // Two-tier mode: the context holds summaries; read the full entries first.
        if let Some(t) = tool(&r.tools, "explore_corpus") {
            return Reply::Call(t.name.clone(), json!({"query": question.chars().take(500).collect::<String>()}));
        }
        match best_snippet(question, &r.knowledge) {
            Some(s) => Reply::Say(extract(s, question)),
            None => Reply::Say(unknown(fr)),
        }
    }

    fn welcome_text(&self, fr: bool) -> String {
        match &self.welcome {
            Some(w) => w.clone(),
            None if fr => "Bonjour ! Comment puis-je vous aider ?".to_owned(),
            None => "Hello! How can I help you?".to_owned(),
        }
    }
}

fn after_tool(name: &str, content: &str, is_error: bool, fr: bool) -> String {
    match (name, is_error, fr) {
        (_, true, false) => format!("Sorry, that did not work: {content}"),
        (_, true, true) => format!("Désolé, cela n'a pas fonctionné : {content}"),
        (n, false, false) if n.starts_with("submit_form") => {
            "Thank you! Your details have been sent; the team will get back to you soon.".to_owned()
        }
        (n, false, true) if n.starts_with("submit_form") => {
            "Merci ! Vos coordonnées ont été transmises ; l'équipe vous recontactera rapidement.".to_owned()
        }
        (n, false, false) if n.starts_with("escalate") => {
            "I've passed your request to a human colleague; someone will get back to you shortly.".to_owned()
        }
        (n, false, true) if n.starts_with("escalate") => {
            "J'ai transmis votre demande à un collègue ; quelqu'un vous répondra très vite.".to_owned()
        }
        (_, false, false) => "Noted, I'll remember that.".to_owned(),
        (_, false, true) => "C'est noté, je m'en souviendrai.".to_owned(),
    }
}

/// "remember that my favorite color is blue", "my name is Ann", "je m'appelle Ann".
fn fact_to_remember(question: &str) -> Option<(String, String)> {
    let q = question.trim().trim_end_matches(['.', '!']);
    let lower = q.to_lowercase();
    for marker in ["my name is ", "je m'appelle ", "call me "] {
        if let Some(i) = lower.find(marker) {
            let value = q[i + marker.len()..].trim();
            return (!value.is_empty()).then(|| ("name".to_owned(), value.to_owned()));
        }
    }
    for (start, sep) in [
        ("remember that my ", " is "),
        ("remember my ", " is "),
        ("retiens que mon ", " est "),
        ("retiens que ma ", " est "),
    ] {
        if let Some(i) = lower.find(start) {
            let rest = &q[i + start.len()..];
            let rest_lower = &lower[i + start.len()..];
            let j = rest_lower.find(sep)?;
            let key = docent_domain::slug::slugify(&rest[..j]).replace('-', "_");
            let value = rest[j + sep.len()..].trim();
            return (!value.is_empty()).then(|| (key, value.to_owned()));
        }
    }
    None
}

/// "what is my name?" answered from memory facts.
fn recall(q: &str, knowledge: &[Snippet], fr: bool) -> Option<String> {
    let asked =
        ["what is my ", "what's my ", "do you remember my ", "quel est mon ", "quelle est ma ", "comment je m'appelle"]
            .iter()
            .find_map(|m| q.find(m).map(|i| q[i + m.len()..].trim_end_matches(['?', ' ', '.']).to_owned()))?;
    let key = if asked.is_empty() || q.contains("m'appelle") {
        "name".to_owned()
    } else {
        docent_domain::slug::slugify(&asked).replace('-', "_")
    };
    let fact = knowledge.iter().find(|s| s.id == format!("memory:{key}"));
    Some(match (fact, fr) {
        (Some(f), false) => format!("Your {} is {}.", key.replace('_', " "), f.content),
        (Some(f), true) => format!("Votre {} : {}.", key.replace('_', " "), f.content),
        (None, false) => format!("I don't know your {} yet.", key.replace('_', " ")),
        (None, true) => format!("Je ne connais pas encore votre {}.", key.replace('_', " ")),
    })
}

const PRODUCT_INTENTS: &[&str] = &[
    "recommend",
    "suggest",
    "looking for",
    "do you sell",
    "do you have any",
    "which product",
    "buy ",
    "recommand",
    "conseill",
    "je cherche",
    "vendez-vous",
    "avez-vous des",
];

fn unknown(fr: bool) -> String {
    if fr {
        "Je ne sais pas répondre à cette question avec ce que je connais. Je peux vous mettre en relation avec \
         l'équipe si vous le souhaitez."
            .to_owned()
    } else {
        "I don't know the answer to that from what I have been given. I can put you in touch with the team if you \
         like."
            .to_owned()
    }
}

/// Whether two words are the same up to an ending or a typo (`delivery`/`delivry`, `horaire`/`horaires`).
fn alike(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let (la, lb) = (a.chars().count(), b.chars().count());
    if la < 4 || lb < 4 {
        return false;
    }
    let prefix = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
    // `open`/`opening`: one word is the other's stem.
    prefix >= 5 || (prefix >= 4 && (la.abs_diff(lb) <= 2 || prefix == la.min(lb)))
}

/// The share of the question's words an entry must contain for the engine to answer from it.
const MIN_COVERAGE: f32 = 0.6;

/// How much of the question an entry covers: the share of the question's words found in it.
fn coverage(question: &[String], s: &Snippet) -> (f32, usize) {
    let title = words(&s.title);
    let body = words(&s.content);
    let mut hits = 0.0;
    let mut weight = 0;
    for w in question {
        if title.iter().any(|t| alike(w, t)) {
            hits += 1.0;
            weight += 3;
        } else if body.iter().any(|t| alike(w, t)) {
            hits += 1.0;
            weight += 1;
        }
    }
    (hits / question.len().max(1) as f32, weight)
}

/// The entry that answers the question, if one covers enough of it; otherwise the engine says
/// it does not know rather than answer from a loosely related entry.
fn best_snippet<'a>(question: &str, knowledge: &'a [Snippet]) -> Option<&'a Snippet> {
    let q = words(question);
    if q.is_empty() {
        return None;
    }
    knowledge
        .iter()
        .filter(|s| !s.id.starts_with("memory:"))
        .map(|s| (coverage(&q, s), s))
        .filter(|((share, weight), _)| *share >= MIN_COVERAGE && *weight >= 2)
        .max_by(|((a, wa), _), ((b, wb), _)| a.total_cmp(b).then(wa.cmp(wb)))
        .map(|(_, s)| s)
}

/// Answers from EXPLORE_CORPUS's result (`[id] title\ncontent` blocks).
fn from_explored(content: &str, question: &str, fr: bool) -> String {
    let entries: Vec<Snippet> = content
        .split("\n\n[")
        .filter_map(|block| {
            let block = block.trim_start_matches('[');
            let (head, body) = block.split_once('\n')?;
            let (id, title) = head.split_once("] ")?;
            Some(Snippet { id: id.to_owned(), title: title.to_owned(), content: body.to_owned() })
        })
        .collect();
    match best_snippet(question, &entries) {
        Some(s) => extract(s, question),
        None => unknown(fr),
    }
}

/// Lists RECOMMEND_PRODUCT's result: the catalog's own lines, prices included.
fn from_catalog(content: &str, fr: bool) -> String {
    let lines: Vec<&str> = content.lines().filter(|l| l.starts_with("- ")).collect();
    match (lines.is_empty(), fr) {
        (true, false) => "I couldn't find a matching product in the catalog.".to_owned(),
        (true, true) => "Je n'ai pas trouvé de produit correspondant dans le catalogue.".to_owned(),
        (false, false) => format!("Here is what I found in the catalog:\n{}", lines.join("\n")),
        (false, true) => format!("Voici ce que j'ai trouvé dans le catalogue :\n{}", lines.join("\n")),
    }
}

/// The entry itself when it is short, else the sentences that best match the question, in the
/// entry's own words.
fn extract(snippet: &Snippet, question: &str) -> String {
    if snippet.content.chars().count() <= 600 {
        return snippet.content.trim().to_owned();
    }
    let q = words(question);
    let sentences: Vec<&str> =
        snippet.content.split_inclusive(['.', '!', '?', '\n']).map(str::trim).filter(|s| !s.is_empty()).collect();
    let mut scored: Vec<(usize, usize)> =
        sentences.iter().enumerate().map(|(i, s)| (words(s).iter().filter(|w| q.contains(w)).count(), i)).collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut picked: Vec<usize> = scored.iter().take(3).filter(|(score, _)| *score > 0).map(|(_, i)| *i).collect();
    if picked.is_empty() {
        picked = (0..sentences.len().min(2)).collect();
    }
    picked.sort_unstable();
    picked.iter().map(|i| sentences[*i]).collect::<Vec<_>>().join(" ")
}

/// Drives a SUBMIT_FORM: asks each required field in turn ("What is your Email?"), reads the
/// answer that follows each question, then submits. `None` when no form is under way.
fn collect_form(form: &ToolSpec, messages: &[Message], q: &str, fr: bool) -> Option<Reply> {
    // Required fields in the form's order (the `required` list keeps it), then the others.
    let properties = form.input_schema["properties"].as_object()?;
    let required: Vec<&str> = form.input_schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let label = |name: &str| properties[name]["description"].as_str().unwrap_or(name).to_owned();
    let fields: Vec<(String, String, bool)> = required
        .iter()
        .filter(|n| properties.contains_key(**n))
        .map(|n| ((*n).to_owned(), label(n), true))
        .chain(properties.keys().filter(|n| !required.contains(&n.as_str())).map(|n| (n.clone(), label(n), false)))
        .collect();
    let mut values = Map::new();
    let mut under_way = false;
    let mut asked: Option<&str> = None;
    // The label of the last answer that did not fit its field, to say so when asking again.
    let mut rejected: Option<String> = None;
    for m in messages {
        match m {
            Message::Assistant { text, .. } => {
                asked = fields
                    .iter()
                    .find(|(_, label, _)| {
                        text.ends_with(&question_for(label, false)) || text.ends_with(&question_for(label, true))
                    })
                    .map(|(n, _, _)| n.as_str());
                under_way |= asked.is_some();
            }
            Message::User { text } => {
                rejected = None;
                if let Some(name) = asked.take() {
                    let value = text.trim();
                    if properties[name]["format"] == "email" && !docent_domain::validate::is_email(value) {
                        rejected = Some(label(name));
                    } else {
                        values.insert(name.to_owned(), Value::String(value.to_owned()));
                    }
                }
            }
            // A submitted form is done: a later request starts afresh.
            Message::Tool { name, is_error: false, .. } if name == &form.name => {
                values.clear();
                under_way = false;
                asked = None;
            }
            Message::Tool { .. } => {}
        }
    }
    let wants_contact = any(
        q,
        &[
            "contact",
            "call me",
            "get in touch",
            "reach me",
            "rappeler",
            "contacter",
            "etre recontacte",
            "quote",
            "devis",
        ],
    );
    if !under_way && !wants_contact {
        return None;
    }
    if let Some(email) =
        q.split_whitespace().find(|w| docent_domain::validate::is_email(w.trim_matches(['.', ',', '!'])))
        && let Some((name, _, _)) = fields.iter().find(|(n, _, _)| n.contains("email"))
    {
        values.entry(name.clone()).or_insert_with(|| Value::String(email.trim_matches(['.', ',', '!']).to_owned()));
    }
    match fields.iter().find(|(name, _, required)| *required && !values.contains_key(name)) {
        Some((_, label, _)) => {
            let intro = match (&rejected, fr) {
                (Some(bad), false) => format!("That doesn't look like a valid {bad}. "),
                (Some(bad), true) => format!("Ce {bad} ne semble pas valide. "),
                (None, _) if under_way => String::new(),
                (None, true) => "Avec plaisir. ".to_owned(),
                (None, false) => "Sure. ".to_owned(),
            };
            Some(Reply::Say(format!("{intro}{}", question_for(label, fr))))
        }
        None => Some(Reply::Call(form.name.clone(), Value::Object(values))),
    }
}

fn question_for(label: &str, fr: bool) -> String {
    if fr { format!("Quel est votre {label} ?") } else { format!("What is your {label}?") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(messages: Vec<Message>, tools: Vec<ToolSpec>, knowledge: Vec<Snippet>) -> ChatRequest {
        ChatRequest {
            model: String::new(),
            system: String::new(),
            messages,
            tools: tools.into(),
            max_tokens: 100,
            temperature: None,
            knowledge: knowledge.into(),
            tool_choice: Default::default(),
        }
    }

    fn user(t: &str) -> Message {
        Message::User { text: t.to_owned() }
    }

    fn form_tool() -> ToolSpec {
        ToolSpec {
            name: "submit_form".into(),
            description: "Contact".into(),
            input_schema: json!({"type": "object", "properties": {
                "name": {"type": "string", "description": "Full Name"},
                "email": {"type": "string", "description": "Email"}}, "required": ["name", "email"]}),
        }
    }

    fn engine() -> Builtin {
        Builtin { welcome: Some("Welcome to Acme!".into()), locale: "en".into() }
    }

    fn said(r: Reply) -> String {
        match r {
            Reply::Say(s) => s,
            Reply::Call(n, _) => panic!("called {n}"),
        }
    }

    #[test]
    fn a_contact_request_collects_required_fields_one_by_one_then_submits() {
        let e = engine();
        let mut msgs = vec![user("I'd like you to contact me")];
        let ask = said(e.reply(&req(msgs.clone(), vec![form_tool()], vec![])));
        assert!(ask.ends_with("What is your Full Name?"), "{ask}");
        msgs.push(Message::Assistant { text: ask, tool_calls: vec![] });
        msgs.push(user("Ann Martin"));
        let ask = said(e.reply(&req(msgs.clone(), vec![form_tool()], vec![])));
        assert_eq!(ask, "What is your Email?");
        msgs.push(Message::Assistant { text: ask, tool_calls: vec![] });
        msgs.push(user("ann@example.com"));
        match e.reply(&req(msgs, vec![form_tool()], vec![])) {
            Reply::Call(name, args) => {
                assert_eq!(name, "submit_form");
                assert_eq!(args, json!({"name": "Ann Martin", "email": "ann@example.com"}));
            }
            Reply::Say(s) => panic!("said {s}"),
        }
    }

    #[test]
    fn answers_extractively_from_the_best_entry_or_says_it_does_not_know() {
        let e = engine();
        let k = vec![Snippet {
            id: "corp_1".into(),
            title: "Business hours".into(),
            content: "We are a small shop. We're open Monday to Friday, 9am to 6pm.".into(),
        }];
        let a = said(e.reply(&req(vec![user("What are your business hours?")], vec![], k.clone())));
        assert!(a.contains("Monday to Friday"), "{a}");
        let a = said(e.reply(&req(vec![user("Do you sell rockets?")], vec![], vec![])));
        assert!(a.contains("don't know"));
        let a = said(e.reply(&req(vec![user("Bonjour, vendez-vous des fusées ?")], vec![], vec![])));
        assert!(a.contains("Je ne sais pas"));
    }

    #[test]
    fn intents_drive_escalation_and_memory() {
        let e = engine();
        let tools = vec![
            ToolSpec { name: "escalate_to_human".into(), description: String::new(), input_schema: json!({}) },
            ToolSpec { name: "remember_fact".into(), description: String::new(), input_schema: json!({}) },
        ];
        assert!(
            matches!(e.reply(&req(vec![user("I want to talk to a human")], tools.clone(), vec![])), Reply::Call(n, _) if n == "escalate_to_human")
        );
        match e.reply(&req(vec![user("Please remember that my favorite color is blue")], tools, vec![])) {
            Reply::Call(_, args) => assert_eq!(args, json!({"key": "favorite_color", "value": "blue"})),
            Reply::Say(s) => panic!("{s}"),
        }
        let memory = vec![Snippet { id: "memory:favorite_color".into(), title: String::new(), content: "blue".into() }];
        assert_eq!(
            said(e.reply(&req(vec![user("What is my favorite color?")], vec![], memory))),
            "Your favorite color is blue."
        );
    }
}
