//! The one way this application makes documents: Typst, compiled in.
//!
//! A document is a Typst template (source text compiled into the binary) and data handed to it as
//! JSON (`json("data.json")` in the template) plus optional in-memory files (a QR code as SVG).
//! There is no file system, no package download and no system font: the [`World`] below answers
//! only the files it was given, and the fonts are those shipped in `assets/fonts` (DejaVu: every
//! Vietnamese letter precomposed, see `assets/fonts/LICENSE-DejaVu.txt`). Used by the certificates
//! and the quarterly reports; it knows neither.

pub mod qr;

use std::sync::LazyLock;

use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_layout::PagedDocument;

static FONT_FILES: [&[u8]; 3] = [
    include_bytes!("../../assets/fonts/DejaVuSans.ttf"),
    include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf"),
    include_bytes!("../../assets/fonts/DejaVuSerif-Bold.ttf"),
];

struct Shared {
    library: LazyHash<Library>,
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

static SHARED: LazyLock<Shared> = LazyLock::new(|| {
    let fonts: Vec<Font> = FONT_FILES.iter().flat_map(|data| Font::iter(Bytes::new(*data))).collect();
    Shared {
        library: LazyHash::new(<Library as LibraryExt>::default()),
        book: LazyHash::new(FontBook::from_fonts(&fonts)),
        fonts,
    }
});

/// Why a document could not be made (the template's fault, never the data's: templates read
/// every field defensively).
#[derive(Debug, thiserror::Error)]
#[error("document: {0}")]
pub struct DocumentError(String);

/// A template, its data and extra files, ready to compile.
pub struct Document<'a> {
    /// Typst source of the main file.
    pub template: &'a str,
    /// Read by the template as `json("data.json")`.
    pub data: &'a serde_json::Value,
    /// Further files by name (e.g. `("qr.svg", svg bytes)`), read with `image("qr.svg")`.
    pub files: Vec<(&'static str, Vec<u8>)>,
    /// Stable document identifier written into the PDF (its hash, not the text).
    pub ident: &'a str,
}

fn file_id(name: &str) -> Option<FileId> {
    Some(RootedPath::new(VirtualRoot::Project, VirtualPath::new(name).ok()?).intern())
}

struct MemoryWorld {
    main: FileId,
    source: Source,
    files: Vec<(FileId, Bytes)>,
}

impl World for MemoryWorld {
    fn library(&self) -> &LazyHash<Library> {
        &SHARED.library
    }
    fn book(&self) -> &LazyHash<FontBook> {
        &SHARED.book
    }
    fn main(&self) -> FileId {
        self.main
    }
    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main { Ok(self.source.clone()) } else { Err(FileError::NotSource) }
    }
    fn file(&self, id: FileId) -> FileResult<Bytes> {
        self.files.iter().find(|(fid, _)| *fid == id).map(|(_, b)| b.clone()).ok_or(FileError::AccessDenied)
    }
    fn font(&self, index: usize) -> Option<Font> {
        SHARED.fonts.get(index).cloned()
    }
    fn today(&self, _offset: Option<typst::foundations::Duration>) -> Option<Datetime> {
        // Documents carry their own dates; `datetime.today()` is not used, so that the same data
        // gives the same bytes.
        None
    }
}

/// Compiles `doc` to PDF bytes. The same input gives the same bytes (no timestamp is written).
pub fn pdf(doc: &Document) -> Result<Vec<u8>, DocumentError> {
    let main = file_id("/main.typ").ok_or_else(|| DocumentError("main path".into()))?;
    let mut files = Vec::with_capacity(doc.files.len() + 1);
    let data = serde_json::to_vec(doc.data).map_err(|e| DocumentError(e.to_string()))?;
    files.push((file_id("/data.json").ok_or_else(|| DocumentError("data path".into()))?, Bytes::new(data)));
    for (name, bytes) in &doc.files {
        let id = file_id(&format!("/{name}")).ok_or_else(|| DocumentError(format!("bad file name {name}")))?;
        files.push((id, Bytes::new(bytes.clone())));
    }
    let world = MemoryWorld { main, source: Source::new(main, doc.template.to_owned()), files };
    let document: PagedDocument = typst::compile(&world)
        .output
        .map_err(|errors| DocumentError(errors.iter().map(|e| e.message.to_string()).collect::<Vec<_>>().join("; ")))?;
    let options = typst_pdf::PdfOptions {
        ident: typst::foundations::Smart::Custom(doc.ident.to_owned()),
        creator: typst::foundations::Smart::Custom(Some("hocvuso".to_owned())),
        ..Default::default()
    };
    let bytes = typst_pdf::pdf(&document, &options)
        .map_err(|errors| DocumentError(errors.iter().map(|e| e.message.to_string()).collect::<Vec<_>>().join("; ")))?;
    // Typst memoises across compilations; keep only what recent documents used.
    typst::comemo::evict(10);
    Ok(bytes)
}

/// Text for a Typst string literal inside data is never needed: data goes through JSON. This
/// strips what a PDF text layer should not carry (controls, bidi overrides) and bounds length.
pub fn clean(s: &str, max_chars: usize) -> String {
    use unicode_normalization::UnicodeNormalization;
    let mut out = String::new();
    let mut pending_space = false;
    for ch in s.chars().take(max_chars * 2).nfc().take(max_chars) {
        if ch.is_whitespace() || ch.is_control() {
            pending_space = !out.is_empty();
            continue;
        }
        if matches!(ch, '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{FEFF}')
        {
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(ch);
    }
    out
}
