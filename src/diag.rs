//! Diagnostics for files that people edit by hand (`sp4n.toml`, `mappings/*.toml`).
//!
//! This module owns the one way a problem in such a file is reported: the file's path, the
//! line and column, the offending line with a caret under the span, and a hint that says
//! what to write instead. Configuration and mapping validation both produce
//! [`Diagnostic`]s; nothing else formats file errors.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem in one file, located by a byte span of the file's text.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub file: PathBuf,
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    pub message: String,
    /// What to do about it; empty when the message says it all.
    pub hint: String,
    /// The source line the span starts on (no newline).
    #[serde(skip)]
    pub source_line: String,
    /// Width of the caret underline, in characters (at least 1).
    #[serde(skip)]
    pub width: usize,
}

impl Diagnostic {
    /// Builds a diagnostic for `span` (byte offsets into `source`).
    pub fn new(
        severity: Severity,
        file: &Path,
        source: &str,
        span: Option<Range<usize>>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        let span = span.unwrap_or(0..0);
        let start = floor_char_boundary(source, span.start.min(source.len()));
        let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = source[start..]
            .find('\n')
            .map_or(source.len(), |i| start + i);
        let line = source[..start].matches('\n').count() + 1;
        let column = source[line_start..start].chars().count() + 1;
        let end = floor_char_boundary(source, span.end.clamp(start, line_end));
        let width = source[start..end].chars().count().max(1);
        Diagnostic {
            severity,
            file: file.to_path_buf(),
            line,
            column,
            message: message.into(),
            hint: hint.into(),
            source_line: source[line_start..line_end]
                .trim_end_matches('\r')
                .to_string(),
            width,
        }
    }

    pub fn error(
        file: &Path,
        source: &str,
        span: Option<Range<usize>>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Self::new(Severity::Error, file, source, span, message, hint)
    }

    pub fn warning(
        file: &Path,
        source: &str,
        span: Option<Range<usize>>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Self::new(Severity::Warning, file, source, span, message, hint)
    }

    /// Converts a `toml` parse or deserialize error, which carries its own span.
    pub fn from_toml(file: &Path, source: &str, err: &toml::de::Error) -> Self {
        let message = err.message().trim().to_string();
        let hint = if message.starts_with("unknown field") {
            "remove the key or fix its spelling; the expected keys are listed above".to_string()
        } else {
            String::new()
        };
        Self::error(file, source, err.span(), message, hint)
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        writeln!(f, "{kind}: {}", self.message)?;
        let gutter = self.line.to_string().len();
        writeln!(
            f,
            "{:gutter$}--> {}:{}:{}",
            "",
            self.file.display(),
            self.line,
            self.column
        )?;
        writeln!(f, "{:gutter$} |", "")?;
        writeln!(f, "{} | {}", self.line, self.source_line)?;
        let pad: String = self
            .source_line
            .chars()
            .take(self.column - 1)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        write!(f, "{:gutter$} | {pad}{}", "", "^".repeat(self.width))?;
        if !self.hint.is_empty() {
            write!(f, "\n{:gutter$} = hint: {}", "", self.hint)?;
        }
        Ok(())
    }
}

/// Renders a list of diagnostics, one blank line between them.
pub fn render_all(diags: &[Diagnostic]) -> String {
    diags
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_points_at_span_with_line_and_column() {
        let src = "[upstream]\nbase_url = 5\n";
        let start = src.find('5').unwrap();
        let d = Diagnostic::error(
            Path::new("sp4n.toml"),
            src,
            Some(start..start + 1),
            "expected a string",
            "write the URL in quotes",
        );
        assert_eq!((d.line, d.column), (2, 12));
        assert_eq!(
            d.to_string(),
            "error: expected a string\n --> sp4n.toml:2:12\n  |\n2 | base_url = 5\n  |            ^\n  = hint: write the URL in quotes"
        );
    }
}
