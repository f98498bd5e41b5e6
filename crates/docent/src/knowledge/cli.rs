//! The knowledge commands of the CLI: `corpus import` (a CSV/NDJSON file or a folder of
//! Markdown/text files, in batches with a progress bar, resumable: entries are keyed so a rerun
//! updates instead of duplicating), `reindex` and `eval retrieval`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use docent_domain::corpus::CorpusIn;

use super::import::Format;
use crate::app::{App, Application};
use crate::config::Config;

const BATCH: usize = 200;

fn progress(done: usize, total: usize) {
    let width = 30;
    let filled = (done * width).checked_div(total).unwrap_or(width);
    eprint!("\r  [{}{}] {done}/{total}", "#".repeat(filled), "-".repeat(width - filled));
    let _ = std::io::stderr().flush();
}

/// Markdown/text files under `dir`, in a stable order.
fn text_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if matches!(path.extension().and_then(|e| e.to_str()), Some("md" | "markdown" | "txt")) {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// One entry per file: title from the first `#` heading, else the file name; key from the path.
fn file_entry(root: &Path, path: &Path) -> anyhow::Result<CorpusIn> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{} is not UTF-8 text", path.display()))?;
    let heading = text.lines().find_map(|l| l.strip_prefix("# ")).map(str::trim).filter(|h| !h.is_empty());
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("untitled").replace(['-', '_'], " ");
    let relative = path.strip_prefix(root).unwrap_or(path).to_string_lossy().replace('\\', "/");
    Ok(CorpusIn {
        title: heading.map_or(stem, str::to_owned),
        content: text,
        segment: None,
        priority: None,
        tags: Vec::new(),
        summary: None,
        key: Some(format!("file:{relative}")),
    })
}

pub async fn import(application: &Application, slug: &str, path: &Path) -> anyhow::Result<()> {
    let app = application.app();
    let tenant = app.store.tenant_by_slug(slug).await?.with_context(|| format!("no tenant `{slug}`"))?;
    let fields = if path.is_dir() {
        let mut fields = Vec::new();
        let mut problems = Vec::new();
        for file in text_files(path)? {
            match file_entry(path, &file)
                .and_then(|e| super::corpus_fields(e, None).map_err(|e| anyhow::anyhow!(e.message)))
            {
                Ok(f) => fields.push(f),
                Err(e) => problems.push(format!("{}: {e}", file.display())),
            }
        }
        if !problems.is_empty() {
            bail!("nothing imported; {} file(s) rejected:\n{}", problems.len(), problems.join("\n"));
        }
        fields
    } else {
        let body = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        let format = match ext.as_deref() {
            Some("ndjson" | "jsonl") => Format::Ndjson,
            _ => Format::Csv,
        };
        super::prepare_corpus(app, &tenant, &body, format).await.map_err(|f| {
            let rows: Vec<String> = f.rejected.iter().map(|r| format!("row {}: {}", r.row, r.error)).collect();
            anyhow::anyhow!("nothing imported; {} row(s) rejected:\n{}", rows.len(), rows.join("\n"))
        })?
    };
    let total = fields.len();
    let (mut created, mut updated) = (0, 0);
    eprintln!("importing {total} entries into `{slug}`");
    progress(0, total);
    for (i, batch) in fields.chunks(BATCH).enumerate() {
        let counted = app.store.import_corpus(&tenant.id, batch.to_vec()).await?;
        created += counted.created;
        updated += counted.updated;
        progress((i * BATCH + batch.len()).min(total), total);
    }
    eprintln!();
    println!("{}", serde_json::json!({"created": created, "updated": updated}));
    Ok(())
}

pub async fn reindex(application: &Application, slug: &str) -> anyhow::Result<()> {
    let app: &App = application.app();
    let tenant = app.store.tenant_by_slug(slug).await?.with_context(|| format!("no tenant `{slug}`"))?;
    let started = Instant::now();
    let docs = app.knowledge.rebuild(app.store.as_ref(), &tenant).await?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({"tenant": slug, "documents": docs, "seconds": secs, "docsPerSecond": docs as f64 / secs.max(1e-9)})
    );
    Ok(())
}

/// Runs the labelled evaluation in a throwaway database, so it never touches real data.
pub async fn eval(dir: &Path) -> anyhow::Result<()> {
    let scratch = tempfile_dir()?;
    let config = Config {
        database_url: format!("sqlite://{}", scratch.join("eval.db").display()),
        data_dir: scratch.clone(),
        ..Config::default()
    };
    let application = Application::build(config).await?;
    let report = super::eval::run(application.app(), dir).await;
    let _ = std::fs::remove_dir_all(&scratch);
    let report = report?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    eprintln!(
        "recall@1 {:.3}  recall@5 {:.3}  MRR {:.3}  absent→unknown {:.3}  answered {:.3}  ({} entries, {} questions)",
        report.recall_at_1,
        report.recall_at_5,
        report.mrr,
        report.absent_unknown,
        report.answered,
        report.entries,
        report.questions
    );
    Ok(())
}

fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("docent-eval-{}", docent_domain::secret::random_base62(8)));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
