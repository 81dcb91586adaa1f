//! The table's rows, printed as plain text for a person or as Markdown for `docs/`.

/// Whether a figure meets its goal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Met {
    /// It does.
    Yes,
    /// It does not.
    No,
    /// No goal, or nothing measured.
    NotApplicable,
}

impl Met {
    /// `yes`, `no` or `—`.
    pub fn as_str(self) -> &'static str {
        match self {
            Met::Yes => "yes",
            Met::No => "no",
            Met::NotApplicable => "—",
        }
    }

    /// `Yes` when `ok`.
    pub fn from_bool(ok: bool) -> Met {
        if ok { Met::Yes } else { Met::No }
    }
}

/// One line of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// What is measured.
    pub measure: String,
    /// The figure, with its unit.
    pub figure: String,
    /// The goal, or `—`.
    pub goal: String,
    /// Whether the figure meets it.
    pub met: Met,
}

const HEADER: [&str; 4] = ["measure", "figure", "goal", "met?"];

fn cells(r: &Row) -> [&str; 4] {
    [&r.measure, &r.figure, &r.goal, r.met.as_str()]
}

/// The rows as a plain-text table, columns padded to line up.
pub fn text(rows: &[Row]) -> String {
    let mut widths = HEADER.map(|h| h.chars().count());
    for r in rows {
        for (w, c) in widths.iter_mut().zip(cells(r)) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |c: [&str; 4]| {
        let padded: Vec<String> = c
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
            .collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut out = line(HEADER);
    out.push_str(&line(
        widths.map(|w| "-".repeat(w)).each_ref().map(String::as_str),
    ));
    for r in rows {
        out.push_str(&line(cells(r)));
    }
    out
}

/// The rows as a Markdown table.
pub fn markdown(rows: &[Row]) -> String {
    let esc = |s: &str| s.replace('|', "\\|");
    let mut out = format!("| {} |\n|---|---|---|---|\n", HEADER.join(" | "));
    for r in rows {
        let c = cells(r).map(esc);
        out.push_str(&format!("| {} |\n", c.join(" | ")));
    }
    out
}
