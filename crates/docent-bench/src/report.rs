//! Results: sections of figures with their targets, printed as one Markdown table and written as
//! JSON to `bench/results/<date>-<machine>.json`. A section whose run had errors shows no figure,
//! only the error count and the first error: a number from a failing run would be a lie.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::json;

#[derive(Serialize)]
pub struct Figure {
    pub name: String,
    pub value: f64,
    pub unit: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Whether the target is met (`None`: no target).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub met: Option<bool>,
}

#[derive(Serialize, Default)]
pub struct Section {
    pub name: String,
    pub errors: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
    pub figures: Vec<Figure>,
    pub notes: Vec<String>,
}

impl Section {
    pub fn new(name: impl Into<String>) -> Self {
        Self { name: name.into(), ..Self::default() }
    }

    pub fn fig(&mut self, name: impl Into<String>, value: f64, unit: &str) -> &mut Self {
        self.figures.push(Figure { name: name.into(), value, unit: unit.to_owned(), target: None, met: None });
        self
    }

    /// A figure that must stay at or below `max`.
    pub fn at_most(&mut self, name: impl Into<String>, value: f64, unit: &str, max: f64) -> &mut Self {
        let target = Some(format!("≤ {}", num(max)));
        self.figures.push(Figure { name: name.into(), value, unit: unit.to_owned(), target, met: Some(value <= max) });
        self
    }

    /// A figure that must reach at least `min`.
    pub fn at_least(&mut self, name: impl Into<String>, value: f64, unit: &str, min: f64) -> &mut Self {
        let target = Some(format!("≥ {}", num(min)));
        self.figures.push(Figure { name: name.into(), value, unit: unit.to_owned(), target, met: Some(value >= min) });
        self
    }

    pub fn note(&mut self, note: impl Into<String>) -> &mut Self {
        self.notes.push(note.into());
        self
    }

    pub fn error(&mut self, errors: u64, first: Option<String>) -> &mut Self {
        self.errors += errors;
        if self.first_error.is_none() {
            self.first_error = first;
        }
        self
    }
}

/// A number as people read it: no more digits than it deserves.
/// The sizes are in MB (10^6 bytes); the harness measures in MiB.
pub fn mb_in_mib(mb: f64) -> f64 {
    mb * 1_000_000.0 / 1_048_576.0
}

pub fn num(v: f64) -> String {
    if v == 0.0 || v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else if v.abs() >= 0.1 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

pub fn markdown(sections: &[Section]) -> String {
    let mut out = String::from("| section | figure | value | target | met |\n|---|---|---|---|---|\n");
    for s in sections {
        if s.errors > 0 {
            let first = s.first_error.as_deref().unwrap_or("").replace('|', "\\|").replace('\n', " ");
            out.push_str(&format!("| {} | **{} errors: no figure reported** | {first} | | ✗ |\n", s.name, s.errors));
            continue;
        }
        for f in &s.figures {
            let met = match f.met {
                Some(true) => "✓",
                Some(false) => "✗",
                None => "",
            };
            let target = f.target.as_deref().map(|t| format!("{t} {}", f.unit)).unwrap_or_default();
            out.push_str(&format!("| {} | {} | {} {} | {target} | {met} |\n", s.name, f.name, num(f.value), f.unit));
        }
    }
    for s in sections.iter().filter(|s| !s.notes.is_empty()) {
        out.push_str(&format!("\n**{}**\n", s.name));
        for n in &s.notes {
            out.push_str(&format!("- {n}\n"));
        }
    }
    out
}

/// `hostname-Ncores`.
pub fn machine() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_else(|_| "unknown".to_owned());
    format!("{}-{}cores", host.trim(), cores())
}

pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Writes the JSON results under `dir`; figures of sections with errors are left out.
pub fn write_json(dir: &Path, command: &str, sections: &[Section]) -> anyhow::Result<PathBuf> {
    let now = time::OffsetDateTime::now_utc();
    let date = format!("{:04}-{:02}-{:02}", now.year(), u8::from(now.month()), now.day());
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("model name")?.split_once(':').map(|(_, v)| v.trim().to_owned()))
        .unwrap_or_default();
    let sections: Vec<_> = sections
        .iter()
        .map(|s| {
            let mut v = json!(s);
            if s.errors > 0 {
                v["figures"] = json!([]);
            }
            v
        })
        .collect();
    let doc = json!({
        "date": now.format(&time::format_description::well_known::Rfc3339)?,
        "machine": {"name": machine(), "cores": cores(), "cpu": cpu},
        "command": command,
        "sections": sections,
    });
    std::fs::create_dir_all(dir)?;
    let path = dir.join(format!("{date}-{}.json", machine()));
    std::fs::write(&path, serde_json::to_string_pretty(&doc)? + "\n")?;
    Ok(path)
}
