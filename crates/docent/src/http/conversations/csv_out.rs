//! Export encodings: CSV per RFC 4180 in UTF-8 (CRLF line ends, quotes where needed) with
//! spreadsheet formulas neutralised, or NDJSON (one JSON object per line, the same keys).

use std::borrow::Cow;

use axum::http::{HeaderMap, HeaderValue, header};
use serde_json::{Map, Value};

use crate::http::error::ApiError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Ndjson,
}

impl Format {
    pub fn parse(raw: Option<&str>) -> Result<Format, ApiError> {
        match raw {
            None | Some("csv") => Ok(Format::Csv),
            Some("ndjson") => Ok(Format::Ndjson),
            Some(_) => {
                Err(ApiError::bad_request("validation_failed", "format must be csv or ndjson").with("field", "format"))
            }
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Ndjson => "ndjson",
        }
    }

    /// `Content-Type` and `Content-Disposition` for a download named `stem`.
    pub fn headers(self, stem: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let content_type = match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Ndjson => "application/x-ndjson",
        };
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        let safe: String =
            stem.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' }).collect();
        let disposition = format!("attachment; filename=\"{safe}.{}\"", self.extension());
        if let Ok(v) = HeaderValue::from_str(&disposition) {
            headers.insert(header::CONTENT_DISPOSITION, v);
        }
        headers
    }
}

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, carriage return first)
/// gets a leading `'`, the OWASP advice, so it shows as text.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

/// A cell of an export row: text (neutralised in CSV) or a number.
#[derive(Clone, Debug)]
pub enum Cell {
    Text(String),
    Number(u64),
}

/// Encodes rows (the header first when `header` is set) as one chunk of the download.
pub fn encode(format: Format, columns: &[&str], rows: &[Vec<Cell>], header: bool) -> Result<Vec<u8>, ApiError> {
    match format {
        Format::Csv => {
            let mut out = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
            if header {
                out.write_record(columns).map_err(ApiError::internal)?;
            }
            for row in rows {
                let cells = row.iter().map(|c| match c {
                    Cell::Text(s) => neutralise(s).into_owned(),
                    Cell::Number(n) => n.to_string(),
                });
                out.write_record(cells).map_err(ApiError::internal)?;
            }
            out.into_inner().map_err(|e| ApiError::internal(std::io::Error::other(e.to_string())))
        }
        Format::Ndjson => {
            let mut out = Vec::new();
            for row in rows {
                let object: Map<String, Value> = columns
                    .iter()
                    .zip(row)
                    .map(|(k, c)| {
                        let v = match c {
                            Cell::Text(s) => Value::String(s.clone()),
                            Cell::Number(n) => Value::from(*n),
                        };
                        ((*k).to_owned(), v)
                    })
                    .collect();
                serde_json::to_writer(&mut out, &object).map_err(ApiError::internal)?;
                out.push(b'\n');
            }
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised_and_others_kept() {
        for bad in ["=1+1", "+33", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralise(bad), format!("'{bad}"));
        }
        assert_eq!(neutralise("What are your prices?"), "What are your prices?");
        assert_eq!(neutralise(""), "");
    }

    #[test]
    fn csv_quotes_what_needs_quoting_and_ends_lines_with_crlf() {
        let rows = vec![vec![Cell::Text("a \"b\", c".into()), Cell::Number(2)]];
        let out = encode(Format::Csv, &["question", "count"], &rows, true).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "question,count\r\n\"a \"\"b\"\", c\",2\r\n");
        let out = encode(Format::Ndjson, &["question", "count"], &rows, true).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "{\"question\":\"a \\\"b\\\", c\",\"count\":2}\n");
    }
}
