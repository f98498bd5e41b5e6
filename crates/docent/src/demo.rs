//! The demo tenant that `docent serve --demo` prepares, so a newcomer can chat at once: a
//! persona, a support segment, a contact form, REMEMBER_FACT and ESCALATE_TO_HUMAN tools and a
//! little knowledge, on the built-in engine. Its owner token is kept in `data_dir/demo.token` (a demo convenience; real
//! tokens are shown once and never stored in clear).

use docent_domain::segment::{ConversationStarter, SegmentIn};
use docent_domain::tenant::TenantPatch;
use docent_domain::tool::{ToolFields, ToolType};
use serde_json::json;

use crate::app::App;
use crate::tenancy::{CreateTenant, create_tenant};

pub const SLUG: &str = "demo";

/// Creates the demo tenant unless it exists; returns its owner token.
pub async fn ensure(app: &App) -> anyhow::Result<String> {
    let token_file = app.config.data_dir.join("demo.token");
    if app.store.tenant_by_slug(SLUG).await?.is_some() {
        return std::fs::read_to_string(&token_file)
            .map(|t| t.trim().to_owned())
            .map_err(|e| anyhow::anyhow!("the demo tenant exists but {} is unreadable: {e}", token_file.display()));
    }
    let created = create_tenant(
        app,
        CreateTenant {
            slug: SLUG.to_owned(),
            name: "Docent Demo".to_owned(),
            plan: None,
            parent_id: None,
            is_activated: true,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!(e.message))?;
    let tenant = app.store.tenant_by_slug(SLUG).await?.ok_or_else(|| anyhow::anyhow!("demo tenant vanished"))?;
    let patch = TenantPatch {
        bot_name: Some("Ada".to_owned()),
        bot_title: Some(Some("Docent demo assistant".to_owned())),
        ..Default::default()
    };
    let updated = patch.apply(&tenant, |s| app.sealer.seal(s)).map_err(|e| anyhow::anyhow!(e.message))?;
    app.store.update_tenant(&tenant.id, &updated).await?;
    let segments = app.store.list_segments(&tenant.id).await?;
    if let Some(general) = segments.into_iter().find(|s| s.is_default) {
        let mut g = general.clone();
        g.welcome_message = Some(
            "Hello! I'm Ada, Docent's demo bot. Ask me something, ask me to remember a fact, \
                                  ask to be contacted, or ask for a human."
                .to_owned(),
        );
        g.conversation_starters = vec![
            ConversationStarter { text: "Please contact me".to_owned(), emoji: "📬".to_owned() },
            ConversationStarter { text: "Remember that my name is Sam".to_owned(), emoji: "🧠".to_owned() },
            ConversationStarter { text: "I want to talk to a human".to_owned(), emoji: "🙋".to_owned() },
        ];
        app.store.update_segment(&tenant.id, &g).await?;
    }
    app.store
        .create_segment(
            &tenant.id,
            SegmentIn {
                name: "Support".to_owned(),
                system_prompt: "You are a patient support agent. Help visitors solve problems step by step.".to_owned(),
                welcome_message: Some("Need help? Describe your issue.".to_owned()),
                conversation_starters: vec![ConversationStarter {
                    text: "I have a bug to report".to_owned(),
                    emoji: String::new(),
                }],
                is_active: true,
            },
        )
        .await?;
    let tools = [
        (
            ToolType::SubmitForm,
            "Contact form",
            "Collect the visitor's contact details when they want to be contacted",
            json!({"fields": [
            {"name": "name", "label": "name", "type": "text", "required": true},
            {"name": "email", "label": "email", "type": "email", "required": true},
            {"name": "message", "label": "message", "type": "textarea", "required": false}]}),
        ),
        (ToolType::RememberFact, "Memory", "Remember a fact the visitor shares about themselves", json!({})),
        (ToolType::EscalateToHuman, "Human handoff", "Hand the conversation to a human when asked", json!({})),
    ];
    for (tool_type, name, description, config) in tools {
        app.store
            .create_tool(
                &tenant.id,
                ToolFields {
                    name: name.to_owned(),
                    description: description.to_owned(),
                    tool_type,
                    config,
                    position: None,
                    is_active: true,
                    segment_id: None,
                    webhook_url: None,
                    webhook_secret: None,
                },
            )
            .await?;
    }
    let knowledge = [
        (
            "What is Docent",
            "Docent is an open-source, self-hostable AI website agent written in Rust. One binary serves the chat widget, the agent API for other AI agents, and the owner's API, on SQLite or PostgreSQL.",
        ),
        (
            "Embedding the widget",
            "Add one script tag to your site: <script src=\"https://your-host/widget.js\" data-tenant=\"your-slug\"></script>. The widget streams replies, remembers the conversation across reloads and works with a strict Content-Security-Policy.",
        ),
        (
            "Pricing",
            "Docent is free and open source under the Apache-2.0 licence. You host it yourself; the only cost is your server and, if you choose one, your language model provider.",
        ),
        (
            "Language models",
            "Docent works offline with its built-in retrieval engine, or with Anthropic, OpenAI-compatible APIs, Mistral or Ollama, configured per server or per tenant, or with your own webhook.",
        ),
        (
            "Opening hours",
            "The demo team answers messages Monday to Friday, 9am to 6pm (Paris time). Outside those hours, leave your contact details and we will get back to you.",
        ),
    ];
    let entries = knowledge
        .iter()
        .map(|(title, content)| docent_domain::corpus::CorpusFields {
            title: (*title).to_owned(),
            content: (*content).to_owned(),
            summary: None,
            segment_id: None,
            priority: 5,
            tags: Vec::new(),
            key: Some(format!("demo:{}", docent_domain::slug::slugify(title))),
        })
        .collect();
    app.store.import_corpus(&tenant.id, entries).await?;
    std::fs::create_dir_all(&app.config.data_dir)?;
    std::fs::write(&token_file, &created.token)?;
    Ok(created.token)
}
