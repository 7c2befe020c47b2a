//! CSV output that opens cleanly in a spreadsheet.
//!
//! Choice: UTF-8 with a byte-order mark (Excel reads UTF-8 only with it), CRLF line ends,
//! one header row, RFC 4180 quoting (a field with the delimiter, a quote, CR or LF is
//! quoted, quotes doubled). Two styles, because Excel splits a double-clicked CSV on the
//! *system* list separator: [`CsvStyle::Comma`] (the default, RFC 4180; LibreOffice,
//! Google Sheets and Excel in English locales) and [`CsvStyle::Semicolon`] for Excel in
//! the Indonesian locale, whose list separator is `;` and decimal mark `,`.

/// Delimiter and decimal mark of a CSV file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CsvStyle {
    /// `,` between fields, `.` in decimals (RFC 4180).
    #[default]
    Comma,
    /// `;` between fields, `,` in decimals (Excel with Indonesian regional settings).
    Semicolon,
}

impl CsvStyle {
    pub fn delimiter(self) -> char {
        match self {
            CsvStyle::Comma => ',',
            CsvStyle::Semicolon => ';',
        }
    }

    /// Formats a decimal with one digit after the mark.
    pub fn decimal(self, v: f64) -> String {
        let s = format!("{v:.1}");
        match self {
            CsvStyle::Comma => s,
            CsvStyle::Semicolon => s.replace('.', ","),
        }
    }
}

/// The byte-order mark that tells spreadsheets the file is UTF-8.
pub const BOM: &str = "\u{feff}";

/// Builds one CSV document.
pub struct CsvWriter {
    style: CsvStyle,
    out: String,
}

impl CsvWriter {
    pub fn new(style: CsvStyle) -> CsvWriter {
        CsvWriter {
            style,
            out: BOM.to_string(),
        }
    }

    pub fn style(&self) -> CsvStyle {
        self.style
    }

    /// Writes one record.
    pub fn record<S: AsRef<str>>(&mut self, fields: &[S]) {
        let d = self.style.delimiter();
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                self.out.push(d);
            }
            let f = f.as_ref();
            if f.contains([d, '"', '\r', '\n']) {
                self.out.push('"');
                self.out.push_str(&f.replace('"', "\"\""));
                self.out.push('"');
            } else {
                self.out.push_str(f);
            }
        }
        self.out.push_str("\r\n");
    }

    /// Writes an empty line (between two tables of one document).
    pub fn blank(&mut self) {
        self.out.push_str("\r\n");
    }

    pub fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_what_needs_quoting() {
        let mut w = CsvWriter::new(CsvStyle::Comma);
        w.record(&["a", "b,c", "say \"hi\"", "x;y", "two\nlines"]);
        assert_eq!(
            w.finish(),
            "\u{feff}a,\"b,c\",\"say \"\"hi\"\"\",x;y,\"two\nlines\"\r\n"
        );
        let mut w = CsvWriter::new(CsvStyle::Semicolon);
        w.record(&["b,c", "x;y"]);
        assert_eq!(w.finish(), "\u{feff}b,c;\"x;y\"\r\n");
        assert_eq!(CsvStyle::Semicolon.decimal(2.5), "2,5");
        assert_eq!(CsvStyle::Comma.decimal(2.0), "2.0");
    }
}
