//! Decoding answers: stream pages, one complaint, write answers and error envelopes,
//! into the domain's types; an unusable `<laporan>` is set aside with its raw XML.

use super::*;

/// An error envelope: `<lapor status="error"><kode>…</kode><pesan>…</pesan></lapor>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorEnvelope {
    pub kode: String,
    pub pesan: String,
}

/// A `<laporan>` that could not be used, kept with its raw XML and the reason.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SetAside {
    pub tracking_id: Option<TrackingId>,
    pub reason: String,
    pub raw: String,
}

/// A complaint with the exact XML it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawComplaint {
    pub complaint: Complaint,
    pub raw: String,
}

/// One page of `getstream`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamPage {
    pub items: Vec<RawComplaint>,
    pub set_aside: Vec<SetAside>,
    /// The `<lanjut>` key: more remain after it. `None`: the stream is exhausted for now.
    pub next: Option<StreamKey>,
}

/// The answer to a write (endpoints 5–8).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WriteAnswer {
    pub tracking_id: TrackingId,
    pub transaksi_id: String,
    /// The server had seen this `ref` before and applied nothing this time.
    pub duplikat: bool,
}

/// What a response document says at the top level.
pub enum Outcome<T> {
    Ok(T),
    Error(ErrorEnvelope),
}

fn envelope_from(root: &Root, children: &[Element]) -> Option<ErrorEnvelope> {
    if root.attr("status") != Some("error") {
        return None;
    }
    let get = |n: &str| {
        children
            .iter()
            .find(|c| c.name == n)
            .map(|c| c.text.trim().to_string())
            .unwrap_or_default()
    };
    Some(ErrorEnvelope {
        kode: get("kode"),
        pesan: get("pesan"),
    })
}

fn check_ok(root: &Root) -> Result<(), XmlError> {
    match root.attr("status") {
        Some("ok") => Ok(()),
        Some(other) => Err(XmlError::Invalid(format!(
            "<lapor> has status=\"{other}\" (expected \"ok\" or \"error\")"
        ))),
        None => Err(XmlError::Invalid(
            "<lapor> answer has no status attribute".into(),
        )),
    }
}

/// Parses a `getstream` answer, item by item.
pub fn parse_stream_page(
    text: &str,
    labels: &StatusLabels,
) -> Result<Outcome<StreamPage>, XmlError> {
    let mut page = StreamPage::default();
    let mut others: Vec<Element> = Vec::new();
    let mut lanjut: Option<Result<StreamKey, InvalidItem>> = None;
    let root = walk_lapor(text, |tree, range| match tree.name(0) {
        "laporan" => {
            let raw = text[range].to_string();
            match complaint_from_tree(tree, 0, labels) {
                Ok(complaint) => page.items.push(RawComplaint { complaint, raw }),
                Err(reason) => page.set_aside.push(set_aside(tree, reason, raw)),
            }
        }
        "lanjut" => lanjut = Some(stream_key_from(&tree.to_element(0))),
        _ => others.push(tree.to_element(0)),
    })?;
    if let Some(env) = envelope_from(&root, &others) {
        return Ok(Outcome::Error(env));
    }
    check_ok(&root)?;
    page.next = match lanjut {
        None => None,
        Some(Ok(k)) => Some(k),
        Some(Err(e)) => return Err(XmlError::Invalid(format!("bad <lanjut>: {e}"))),
    };
    Ok(Outcome::Ok(page))
}

/// A `<laporan>` (node 0 of `tree`) that cannot be used, with why and its raw XML.
fn set_aside(tree: &Tree<'_>, reason: InvalidItem, raw: String) -> SetAside {
    SetAside {
        tracking_id: tree
            .attr(0, "trackingid")
            .and_then(|t| t.trim().parse().ok()),
        reason: reason.0,
        raw,
    }
}

pub(super) fn stream_key_from(el: &Element) -> Result<StreamKey, InvalidItem> {
    let sejak = parse_timestamp(el.attr("sejak").ok_or("missing sejak")?)?;
    let setelah = match el.attr("setelah") {
        None => None,
        Some(s) => Some(
            s.trim()
                .parse::<TrackingId>()
                .map_err(|_| format!("setelah '{s}' is not a tracking id"))?,
        ),
    };
    Ok(StreamKey { sejak, setelah })
}

/// Parses a `getlaporan` answer. An invalid `<laporan>` is an error with its reason.
pub fn parse_laporan_answer(
    text: &str,
    labels: &StatusLabels,
) -> Result<Outcome<Result<RawComplaint, SetAside>>, XmlError> {
    let mut found: Option<Result<RawComplaint, SetAside>> = None;
    let mut others = Vec::new();
    let root = walk_lapor(text, |tree, range| {
        if tree.name(0) == "laporan" && found.is_none() {
            let raw = text[range].to_string();
            found = Some(match complaint_from_tree(tree, 0, labels) {
                Ok(complaint) => Ok(RawComplaint { complaint, raw }),
                Err(reason) => Err(set_aside(tree, reason, raw)),
            });
        } else {
            others.push(tree.to_element(0));
        }
    })?;
    if let Some(env) = envelope_from(&root, &others) {
        return Ok(Outcome::Error(env));
    }
    check_ok(&root)?;
    found
        .map(Outcome::Ok)
        .ok_or_else(|| XmlError::Invalid("answer has no <laporan>".into()))
}

/// Parses a file an administrator gives: a bare `<laporan>` element (with or without an
/// XML declaration or BOM) or a whole `getlaporan` answer, as [`parse_laporan_answer`].
pub fn parse_laporan_file(
    text: &str,
    labels: &StatusLabels,
) -> Result<Outcome<Result<RawComplaint, SetAside>>, XmlError> {
    let mut body = text.trim_start_matches('\u{feff}').trim_start();
    if body.starts_with("<?xml")
        && let Some(end) = body.find("?>")
    {
        body = body[end + 2..].trim_start();
    }
    if body.starts_with("<lapor>") || body.starts_with("<lapor ") {
        parse_laporan_answer(body, labels)
    } else {
        parse_laporan_answer(&format!("<lapor status=\"ok\">{body}</lapor>"), labels)
    }
}

/// Parses a write answer (`<trackingid>`, `<transaksiid>`, optional `<duplikat>`).
pub fn parse_write_answer(text: &str) -> Result<Outcome<WriteAnswer>, XmlError> {
    let mut children = Vec::new();
    let root = parse_lapor(text, |el, _| children.push(el))?;
    if let Some(env) = envelope_from(&root, &children) {
        return Ok(Outcome::Error(env));
    }
    check_ok(&root)?;
    let get = |n: &str| {
        children
            .iter()
            .find(|c| c.name == n)
            .map(|c| c.text.trim().to_string())
    };
    let tracking_id = get("trackingid")
        .ok_or_else(|| XmlError::Invalid("write answer has no <trackingid>".into()))?;
    let tracking_id = tracking_id
        .parse()
        .map_err(|_| XmlError::Invalid(format!("trackingid '{tracking_id}' is not a number")))?;
    let transaksi_id = get("transaksiid")
        .ok_or_else(|| XmlError::Invalid("write answer has no <transaksiid>".into()))?;
    Ok(Outcome::Ok(WriteAnswer {
        tracking_id,
        transaksi_id,
        duplikat: get("duplikat").as_deref() == Some("1"),
    }))
}

pub(super) fn flag(el: &Element, name: &str) -> Result<bool, InvalidItem> {
    flag_value(el.attr(name), name)
}

/// Reads a 0/1 attribute such as `rahasia` or `anonim` (absent is 0).
fn flag_value(value: Option<&str>, name: &str) -> Result<bool, InvalidItem> {
    match value.map(str::trim) {
        None | Some("0") | Some("") | Some("false") => Ok(false),
        Some("1") | Some("true") => Ok(true),
        Some(other) => Err(format!("{name}=\"{other}\" is not 0 or 1").into()),
    }
}

pub(super) fn opt_text(el: &Element, name: &str) -> Option<String> {
    el.child_text(name)
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// Where a `<laporan>`'s children are, found in one pass: the first child of each name
/// read once, and the first and the count of each repeated one.
#[derive(Default)]
struct Fields {
    diperbarui: Option<usize>,
    dibuat: Option<usize>,
    status: Option<usize>,
    pelapor: Option<usize>,
    judul: Option<usize>,
    isi: Option<usize>,
    klasifikasi: Option<usize>,
    topik: Option<usize>,
    kanal: Option<usize>,
    lokasi: Option<usize>,
    unit: Option<usize>,
    tag: Repeated,
    lampiran: Repeated,
    tindaklanjut: Repeated,
}

#[derive(Default)]
struct Repeated {
    first: Option<usize>,
    count: usize,
}

impl Fields {
    fn of(tree: &Tree<'_>, el: usize) -> Fields {
        let mut f = Fields::default();
        let mut ignored = None;
        let end = tree.nodes[el].end;
        let mut at = el + 1;
        while at < end {
            let first = match tree.nodes[at].name {
                "diperbarui" => &mut f.diperbarui,
                "dibuat" => &mut f.dibuat,
                "status" => &mut f.status,
                "pelapor" => &mut f.pelapor,
                "judul" => &mut f.judul,
                "isi" => &mut f.isi,
                "klasifikasi" => &mut f.klasifikasi,
                "topik" => &mut f.topik,
                "kanal" => &mut f.kanal,
                "lokasi" => &mut f.lokasi,
                "unit" => &mut f.unit,
                "tag" => f.tag.add(),
                "lampiran" => f.lampiran.add(),
                "tindaklanjut" => f.tindaklanjut.add(),
                _ => &mut ignored,
            };
            first.get_or_insert(at);
            at = tree.nodes[at].end;
        }
        f
    }
}

impl Repeated {
    /// Counts one more, and gives the place for the first.
    fn add(&mut self) -> &mut Option<usize> {
        self.count += 1;
        &mut self.first
    }
}

/// Maps the `<laporan>` at node `el` of a tree to a complaint (moving its texts out of the
/// tree), or says why it cannot be used.
fn complaint_from_tree(
    tree: &mut Tree<'_>,
    el: usize,
    labels: &StatusLabels,
) -> Result<Complaint, InvalidItem> {
    let tracking_id = match tree.attr(el, "trackingid").map(str::trim) {
        None | Some("") => return Err("missing trackingid".into()),
        Some(t) => t
            .parse::<TrackingId>()
            .map_err(|_| format!("trackingid '{t}' is not a decimal integer"))?,
    };
    let f = Fields::of(tree, el);
    let time = |id: usize, what: &str| -> Result<DateTime<Utc>, InvalidItem> {
        parse_timestamp(tree.text(id).trim()).map_err(|e| format!("bad <{what}>: {e}").into())
    };
    let diperbarui = time(f.diperbarui.ok_or("missing <diperbarui>")?, "diperbarui")?;
    let dibuat = f.dibuat.map(|d| time(d, "dibuat")).transpose()?;
    let status_label = tree.text(f.status.ok_or("missing <status>")?);
    let status = labels
        .parse(&status_label)
        .ok_or_else(|| format!("unknown status label '{}'", status_label.trim()))?;
    let anonim = flag_value(tree.attr(el, "anonim"), "anonim")?;
    let pelapor = match f.pelapor {
        Some(p) if !anonim => Some(Reporter {
            namadepan: tree.take_child_text(p, "namadepan"),
            namabelakang: tree.take_child_text(p, "namabelakang"),
            email: tree.take_child_text(p, "email"),
            telpon: tree.take_child_text(p, "telpon"),
        }),
        _ => None,
    };
    let mut thread = Vec::with_capacity(f.tindaklanjut.count);
    let mut at = f.tindaklanjut.first;
    while let Some(t) = at {
        let oleh_s = tree.attr(t, "oleh").unwrap_or_default();
        let oleh = Author::parse(oleh_s)
            .ok_or_else(|| format!("thread entry has unknown oleh=\"{oleh_s}\""))?;
        let waktu = parse_timestamp(tree.attr(t, "waktu").unwrap_or_default())
            .map_err(|e| format!("bad thread entry waktu: {e}"))?;
        let transaksi_id = tree.attr(t, "transaksiid").unwrap_or_default().to_string();
        let unit = tree.attr(t, "unit").map(str::to_string);
        let ref_ = tree.attr(t, "ref").map(str::to_string);
        thread.push(ThreadEntry {
            transaksi_id,
            oleh,
            unit,
            waktu,
            ref_,
            isi: tree.take_child_text(t, "isi"),
        });
        at = tree.child_after(el, Some(t), "tindaklanjut");
    }
    let rahasia = flag_value(tree.attr(el, "rahasia"), "rahasia")?;
    let topik = tree
        .take_reference(f.topik, "id")
        .map(|(id, name)| TopicRef { id, name });
    let lokasi = tree
        .take_reference(f.lokasi, "kode")
        .map(|(kode, name)| Location { kode, name });
    let unit = tree
        .take_reference(f.unit, "id")
        .map(|(id, name)| UnitRef { id, name });
    let mut tags = Vec::with_capacity(f.tag.count);
    let mut at = f.tag.first;
    while let Some(t) = at {
        tags.push(tree.take_text(t));
        at = tree.child_after(el, Some(t), "tag");
    }
    let mut lampiran = Vec::with_capacity(f.lampiran.count);
    let mut at = f.lampiran.first;
    while let Some(l) = at {
        lampiran.push(Attachment {
            url: tree.attr(l, "url").unwrap_or_default().to_string(),
            jenis: tree.attr(l, "jenis").unwrap_or_default().to_string(),
        });
        at = tree.child_after(el, Some(l), "lampiran");
    }
    Ok(Complaint {
        tracking_id,
        rahasia,
        anonim,
        judul: tree.take_text_of(f.judul),
        isi: tree.take_text_of(f.isi),
        klasifikasi: tree.trimmed_text(f.klasifikasi),
        topik,
        tags,
        kanal: tree.trimmed_text(f.kanal),
        lokasi,
        pelapor,
        status,
        unit,
        dibuat,
        diperbarui,
        lampiran,
        thread,
    })
}

/// Why an item of an answer (a `<laporan>`, a `<lanjut>` key) is not valid: the reason
/// kept with it when it is set aside.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidItem(pub String);

impl From<String> for InvalidItem {
    fn from(s: String) -> Self {
        InvalidItem(s)
    }
}

impl From<&str> for InvalidItem {
    fn from(s: &str) -> Self {
        InvalidItem(s.to_string())
    }
}

impl From<crate::model::BadTimestamp> for InvalidItem {
    fn from(e: crate::model::BadTimestamp) -> Self {
        InvalidItem(e.to_string())
    }
}
