//! Renders a certificate as a one-page A4 (landscape) PDF.
//!
//! Self-contained: the layout is done here with the glyph metrics of the
//! embedded DejaVu fonts (see `assets/fonts/LICENSE-DejaVu.txt`), text is
//! written as Type 0 / CIDFontType2 fonts (Identity-H) with a `ToUnicode`
//! map so that it can be searched and copied, the fonts are subset to the
//! glyphs used, and the QR code pointing to the verification page is drawn as
//! vector rectangles.
//!
//! Vietnamese needs no shaping here: every letter has a precomposed code
//! point (NFC) and a precomposed glyph in DejaVu, so a plain `cmap` lookup is
//! enough. Input is normalised to NFC anyway.
//!
//! [`render`] never panics: over-long text shrinks, wraps and finally is cut
//! with an ellipsis; characters the fonts lack print as `?`; a verification URL
//! too long for a QR code leaves a notice in place of the code.

use std::collections::BTreeMap;

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Filter, Name, Pdf, Rect, Ref, Str, TextStr};
use qrcode::{Color, EcLevel, QrCode};
use subsetter::GlyphRemapper;
use unicode_normalization::UnicodeNormalization;

/// What the PDF shows. All text is Vietnamese (with diacritics), already NFC.
pub struct PdfCertificate<'a> {
    pub holder_name: &'a str,
    pub title: &'a str,
    pub profile: &'a str,
    pub level: u8,
    pub share_percent: u32,
    /// (code, Vietnamese name, percent)
    pub competences: &'a [(String, String, u32)],
    pub issued_on: &'a str,
    pub issuer: &'a str,
    pub certificate_id: &'a str,
    /// Encoded in the QR code and printed under it.
    pub verify_url: &'a str,
    pub key_id: &'a str,
}

/// Renders the certificate; the bytes are a complete PDF file.
pub fn render(c: &PdfCertificate) -> Vec<u8> {
    match render_inner(c) {
        Some(bytes) => bytes,
        // Only reachable if an embedded font could not be parsed or subset,
        // which the tests rule out; still, never panic.
        None => render_fallback(c),
    }
}

// ---------------------------------------------------------------------------
// Page geometry and colours. Units are PDF points (1/72 in); layout `y`
// values are measured from the top of the page and flipped when drawn.

const PAGE_W: f32 = 841.89; // A4 landscape
const PAGE_H: f32 = 595.28;
const MM: f32 = 72.0 / 25.4;

/// Left/right edge of the content inside the frame.
const LEFT: f32 = 58.0;
const RIGHT: f32 = PAGE_W - 58.0;
/// Lowest baseline the content may use.
const BOTTOM: f32 = PAGE_H - 44.0;

/// Right column (QR code and verification).
const COL_W: f32 = 176.0;
const COL_X: f32 = RIGHT - COL_W;
/// QR symbol width without the quiet zone: 34 mm (the brief asks for ≥ 30 mm).
const QR_SYMBOL: f32 = 34.0 * MM;

type Rgb = (f32, f32, f32);
const NAVY: Rgb = (0.106, 0.227, 0.369);
const GOLD: Rgb = (0.718, 0.557, 0.235);
const CRIMSON: Rgb = (0.553, 0.110, 0.114);
const INK: Rgb = (0.13, 0.13, 0.15);
const GREY: Rgb = (0.40, 0.41, 0.44);
const STRIPE: Rgb = (0.953, 0.961, 0.976);
const BAR_BG: Rgb = (0.875, 0.890, 0.918);
const BAR: Rgb = (0.204, 0.396, 0.580);
const WHITE: Rgb = (1.0, 1.0, 1.0);

/// Longest input kept from any one field (characters); more cannot be shown.
const MAX_FIELD_CHARS: usize = 600;
/// Competence rows drawn at most (more are summarised in one line).
const MAX_ROWS: usize = 40;

// ---------------------------------------------------------------------------
// Fonts

static SANS: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static SANS_BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");
static SERIF_BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSerif-Bold.ttf");

#[derive(Clone, Copy, PartialEq, Eq)]
enum F {
    Sans = 0,
    SansBold = 1,
    SerifBold = 2,
}

struct Font {
    data: &'static [u8],
    face: ttf_parser::Face<'static>,
    base_name: &'static str,
    resource: &'static [u8],
    serif: bool,
    bold: bool,
    units_per_em: f32,
    /// Glyph printed for characters the font lacks ('?').
    fallback: u16,
    /// Old glyph ids → consecutive new ids of the subset (0 = .notdef).
    remapper: GlyphRemapper,
    /// New glyph id → the character it stands for (for `ToUnicode`).
    to_unicode: BTreeMap<u16, char>,
}

impl Font {
    fn load(
        data: &'static [u8],
        base_name: &'static str,
        resource: &'static [u8],
        serif: bool,
        bold: bool,
    ) -> Option<Self> {
        let face = ttf_parser::Face::parse(data, 0).ok()?;
        let units_per_em = f32::from(face.units_per_em().max(1));
        let fallback = face.glyph_index('?').map_or(0, |g| g.0);
        Some(Self {
            data,
            face,
            base_name,
            resource,
            serif,
            bold,
            units_per_em,
            fallback,
            remapper: GlyphRemapper::new(),
            to_unicode: BTreeMap::new(),
        })
    }

    /// Glyph for `c` and the character it really shows.
    fn glyph(&self, c: char) -> (u16, char) {
        match self.face.glyph_index(c) {
            Some(g) if g.0 != 0 => (g.0, c),
            _ => (self.fallback, '?'),
        }
    }

    /// Advance of a glyph in text space units (1/1000 em).
    fn advance_units(&self, gid: u16) -> f32 {
        let adv = self.face.glyph_hor_advance(ttf_parser::GlyphId(gid)).unwrap_or(0);
        f32::from(adv) * 1000.0 / self.units_per_em
    }

    fn width(&self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.advance_units(self.glyph(c).0)).sum::<f32>() * size / 1000.0
    }

    /// Encodes `text` as big-endian 2-byte CIDs of the subset font,
    /// registering the glyphs used.
    fn encode(&mut self, text: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let (old, shown) = self.glyph(c);
            let new = self.remapper.remap(old);
            self.to_unicode.entry(new).or_insert(shown);
            out.extend_from_slice(&new.to_be_bytes());
        }
        out
    }
}

struct Fonts([Font; 3]);

impl Fonts {
    fn load() -> Option<Self> {
        Some(Self([
            Font::load(SANS, "DejaVuSans", b"F1", false, false)?,
            Font::load(SANS_BOLD, "DejaVuSans-Bold", b"F2", false, true)?,
            Font::load(SERIF_BOLD, "DejaVuSerif-Bold", b"F3", true, true)?,
        ]))
    }
    fn get(&self, f: F) -> &Font {
        &self.0[f as usize]
    }
    fn get_mut(&mut self, f: F) -> &mut Font {
        &mut self.0[f as usize]
    }
}

// ---------------------------------------------------------------------------
// Text clean-up, wrapping and fitting

/// NFC, one space for any run of whitespace/control characters, invisible
/// format characters dropped, length bounded.
fn clean(s: &str) -> String {
    let mut out = String::new();
    let mut pending_space = false;
    for ch in s.chars().take(MAX_FIELD_CHARS * 2).nfc().take(MAX_FIELD_CHARS) {
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

/// Greedy word wrap; words wider than a line are broken between characters.
fn wrap(font: &Font, text: &str, size: f32, max_w: f32) -> Vec<String> {
    let space = font.width(" ", size);
    let mut lines = Vec::new();
    let mut cur = String::new();
    let mut cur_w = 0.0;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let w = font.width(word, size);
        if !cur.is_empty() && cur_w + space + w <= max_w {
            cur.push(' ');
            cur.push_str(word);
            cur_w += space + w;
            continue;
        }
        if !cur.is_empty() {
            lines.push(std::mem::take(&mut cur));
            cur_w = 0.0;
        }
        if w <= max_w {
            cur.push_str(word);
            cur_w = w;
            continue;
        }
        for ch in word.chars() {
            let cw = font.width(ch.encode_utf8(&mut [0; 4]), size);
            if !cur.is_empty() && cur_w + cw > max_w {
                lines.push(std::mem::take(&mut cur));
                cur_w = 0.0;
            }
            cur.push(ch);
            cur_w += cw;
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

/// Wraps a URL (no spaces) preferably after `/`, `?`, `&`, `=` or `#`, and
/// between any two characters where a part is wider than a line. No line ends
/// with `-`: text extractors take that for a hyphenation and drop it.
fn wrap_url(font: &Font, url: &str, size: f32, max_w: f32, max_lines: usize) -> Vec<String> {
    let mut parts: Vec<&str> = Vec::new();
    let mut start = 0;
    for (i, ch) in url.char_indices() {
        if matches!(ch, '/' | '?' | '&' | '=' | '#') {
            let end = i + ch.len_utf8();
            parts.push(&url[start..end]);
            start = end;
        }
    }
    if start < url.len() {
        parts.push(&url[start..]);
    }
    let mut lines = Vec::new();
    let mut cur = String::new();
    let mut cur_w = 0.0;
    for part in parts {
        let w = font.width(part, size);
        if cur_w + w <= max_w {
            cur.push_str(part);
            cur_w += w;
            continue;
        }
        if !cur.is_empty() {
            lines.push(std::mem::take(&mut cur));
            cur_w = 0.0;
        }
        for ch in part.chars() {
            let cw = font.width(ch.encode_utf8(&mut [0; 4]), size);
            if !cur.is_empty() && cur_w + cw > max_w {
                let carry = if cur.len() > 1 && cur.ends_with('-') { cur.pop() } else { None };
                lines.push(std::mem::take(&mut cur));
                cur_w = 0.0;
                if let Some(h) = carry {
                    cur.push(h);
                    cur_w = font.width("-", size);
                }
            }
            cur.push(ch);
            cur_w += cw;
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    if lines.len() > max_lines {
        lines.truncate(max_lines.max(1));
        if let Some(last) = lines.last_mut() {
            *last = ellipsize(font, last, size, max_w);
        }
    }
    lines
}

/// Cuts `line` so that it and a trailing ellipsis fit in `max_w`.
fn ellipsize(font: &Font, line: &str, size: f32, max_w: f32) -> String {
    let mut s: String = line.to_string();
    loop {
        let candidate = format!("{}…", s.trim_end());
        if s.is_empty() || font.width(&candidate, size) <= max_w {
            return candidate;
        }
        s.pop();
    }
}

/// Largest size in `[min, max]` (1 pt steps) at which `text` wraps into at
/// most `max_lines` lines of `max_w`; at `min` the text is cut with "…".
fn fit(font: &Font, text: &str, max: f32, min: f32, max_w: f32, max_lines: usize) -> (f32, Vec<String>) {
    fit_exact(font, text, max, min, max_w, max_lines).unwrap_or_else(|| {
        let mut lines = wrap(font, text, min, max_w);
        if lines.len() > max_lines {
            lines.truncate(max_lines.max(1));
            if let Some(last) = lines.last_mut() {
                *last = ellipsize(font, last, min, max_w);
            }
        }
        (min, lines)
    })
}

/// Like [`fit`], but `None` instead of cutting.
fn fit_exact(font: &Font, text: &str, max: f32, min: f32, max_w: f32, max_lines: usize) -> Option<(f32, Vec<String>)> {
    let mut size = max;
    loop {
        let lines = wrap(font, text, size, max_w);
        if lines.len() <= max_lines {
            return Some((size, lines));
        }
        if size <= min {
            return None;
        }
        size = (size - 1.0).max(min);
    }
}

// ---------------------------------------------------------------------------
// Drawing

#[derive(Clone, Copy)]
enum Align {
    Left,
    Center,
    Right,
}

struct Canvas {
    content: Content,
    fonts: Fonts,
}

impl Canvas {
    fn font(&self, f: F) -> &Font {
        self.fonts.get(f)
    }

    /// One line of text; `x` is the left edge, centre or right edge per `align`,
    /// `y` the baseline from the top of the page.
    #[allow(clippy::too_many_arguments)] // plain drawing primitive: font, size, colour, position, alignment
    fn text(&mut self, f: F, size: f32, color: Rgb, x: f32, y: f32, align: Align, text: &str) {
        if text.is_empty() {
            return;
        }
        let w = self.font(f).width(text, size);
        let x = match align {
            Align::Left => x,
            Align::Center => x - w / 2.0,
            Align::Right => x - w,
        };
        let font = self.fonts.get_mut(f);
        let bytes = font.encode(text);
        let name = Name(font.resource);
        self.content
            .set_fill_rgb(color.0, color.1, color.2)
            .begin_text()
            .set_font(name, size)
            .set_text_matrix([1.0, 0.0, 0.0, 1.0, x, PAGE_H - y])
            .show(Str(&bytes))
            .end_text();
    }

    /// Several runs of (font, text, colour) on one line, placed as a whole.
    fn runs(&mut self, size: f32, x: f32, y: f32, align: Align, runs: &[(F, &str, Rgb)]) {
        let total: f32 = runs.iter().map(|(f, t, _)| self.font(*f).width(t, size)).sum();
        let mut x = match align {
            Align::Left => x,
            Align::Center => x - total / 2.0,
            Align::Right => x - total,
        };
        for (f, t, color) in runs {
            self.text(*f, size, *color, x, y, Align::Left, t);
            x += self.font(*f).width(t, size);
        }
    }

    /// Lines from `fit`, first baseline at `y`; returns the last baseline.
    #[allow(clippy::too_many_arguments)]
    fn lines(
        &mut self,
        f: F,
        size: f32,
        color: Rgb,
        x: f32,
        y: f32,
        align: Align,
        lines: &[String],
        leading: f32,
    ) -> f32 {
        let mut baseline = y;
        for (i, line) in lines.iter().enumerate() {
            baseline = y + i as f32 * size * leading;
            self.text(f, size, color, x, baseline, align, line);
        }
        baseline
    }

    fn fill_rect(&mut self, color: Rgb, x: f32, y_top: f32, w: f32, h: f32) {
        if w <= 0.0 || h <= 0.0 {
            return;
        }
        self.content.set_fill_rgb(color.0, color.1, color.2).rect(x, PAGE_H - y_top - h, w, h).fill_nonzero();
    }

    fn stroke_rect(&mut self, color: Rgb, width: f32, x: f32, y_top: f32, w: f32, h: f32) {
        self.content
            .set_stroke_rgb(color.0, color.1, color.2)
            .set_line_width(width)
            .rect(x, PAGE_H - y_top - h, w, h)
            .stroke();
    }

    fn hline(&mut self, color: Rgb, width: f32, x0: f32, x1: f32, y: f32) {
        self.content
            .set_stroke_rgb(color.0, color.1, color.2)
            .set_line_width(width)
            .move_to(x0, PAGE_H - y)
            .line_to(x1, PAGE_H - y)
            .stroke();
    }

    fn diamond(&mut self, color: Rgb, cx: f32, cy: f32, r: f32) {
        let y = PAGE_H - cy;
        self.content
            .set_fill_rgb(color.0, color.1, color.2)
            .move_to(cx, y + r)
            .line_to(cx + r, y)
            .line_to(cx, y - r)
            .line_to(cx - r, y)
            .close_path()
            .fill_nonzero();
    }
}

// ---------------------------------------------------------------------------
// Layout

fn render_inner(c: &PdfCertificate) -> Option<Vec<u8>> {
    let fonts = Fonts::load()?;
    let mut cv = Canvas { content: Content::new(), fonts };

    let holder = clean(c.holder_name);
    let title = clean(c.title);
    let profile = clean(c.profile);
    let issued_on = clean(c.issued_on);
    let issuer = clean(c.issuer);
    let cert_id = clean(c.certificate_id);
    let key_id = clean(c.key_id);
    let url = clean(c.verify_url);

    frame(&mut cv);

    let cx = PAGE_W / 2.0;
    let full_w = RIGHT - LEFT;

    // Letterhead: the issuer.
    let (size, lines) = fit(cv.font(F::SansBold), &issuer, 10.5, 7.0, full_w, 2);
    let mut y = cv.lines(F::SansBold, size, NAVY, cx, 66.0, Align::Center, &lines, 1.25);

    // Title.
    let (size, lines) = fit(cv.font(F::SerifBold), &title, 26.0, 14.0, 640.0, 2);
    y = cv.lines(F::SerifBold, size, NAVY, cx, y + 16.0 + size, Align::Center, &lines, 1.2);

    // Ornament.
    y += 14.0;
    cv.hline(GOLD, 0.8, cx - 90.0, cx - 8.0, y);
    cv.hline(GOLD, 0.8, cx + 8.0, cx + 90.0, y);
    cv.diamond(GOLD, cx, y, 4.0);

    // "Cấp cho" and the holder's name.
    y += 24.0;
    cv.text(F::Sans, 12.0, GREY, cx, y, Align::Center, "Cấp cho");
    let name_w = 660.0;
    let (size, lines) = fit_exact(cv.font(F::SerifBold), &holder, 32.0, 20.0, name_w, 1)
        .unwrap_or_else(|| fit(cv.font(F::SerifBold), &holder, 22.0, 12.0, name_w, 2));
    y = cv.lines(F::SerifBold, size, CRIMSON, cx, y + 10.0 + size, Align::Center, &lines, 1.15);

    // Profile and level.
    let profile_line = format!("Đối tượng: {profile} — Bậc {}", c.level);
    let (size, lines) = fit(cv.font(F::Sans), &profile_line, 12.5, 8.0, 640.0, 2);
    y = cv.lines(F::Sans, size, INK, cx, y + 12.0 + size, Align::Center, &lines, 1.25);

    // Overall result.
    y += 22.0;
    let pct = format!("{}%", c.share_percent);
    cv.runs(12.5, cx, y, Align::Center, &[(F::Sans, "Kết quả chung: ", INK), (F::SansBold, &pct, NAVY)]);

    let lower_top = y + 26.0;

    // Footer (bottom left): date and issuer.
    let table_w = COL_X - 28.0 - LEFT;
    let issuer_line = format!("Đơn vị cấp: {issuer}");
    let (isize, ilines) = fit(cv.font(F::Sans), &issuer_line, 9.5, 6.5, table_w, 2);
    let ilead = isize * 1.25;
    let issuer_top = BOTTOM - (ilines.len().saturating_sub(1)) as f32 * ilead;
    let date_y = issuer_top - ilead - 2.0;
    cv.runs(10.0, LEFT, date_y, Align::Left, &[(F::Sans, "Ngày cấp: ", INK), (F::SansBold, &issued_on, INK)]);
    cv.lines(F::Sans, isize, INK, LEFT, issuer_top, Align::Left, &ilines, 1.25);

    // Competence table (left), between the result line and the footer.
    table(&mut cv, c.competences, LEFT, lower_top, table_w, date_y - 10.0 - 14.0);

    // Verification column (right).
    // Right of the table, or centred when there is no table.
    let col_cx = if c.competences.is_empty() { cx } else { COL_X + COL_W / 2.0 };
    verification(&mut cv, &url, &cert_id, &key_id, col_cx, lower_top);

    finish_pdf(cv, &title, &issuer, &holder)
}

fn frame(cv: &mut Canvas) {
    cv.stroke_rect(NAVY, 2.4, 18.0, 18.0, PAGE_W - 36.0, PAGE_H - 36.0);
    cv.stroke_rect(GOLD, 0.8, 25.0, 25.0, PAGE_W - 50.0, PAGE_H - 50.0);
    for (x, y) in [(25.0, 25.0), (PAGE_W - 25.0, 25.0), (25.0, PAGE_H - 25.0), (PAGE_W - 25.0, PAGE_H - 25.0)] {
        cv.diamond(GOLD, x, y, 5.0);
    }
}

/// Per-competence table; `bottom` is the lowest y the table may reach.
fn table(cv: &mut Canvas, rows: &[(String, String, u32)], x: f32, top: f32, w: f32, bottom: f32) {
    if rows.is_empty() || bottom - top < 40.0 {
        return;
    }
    let heading_y = top + 10.0;
    cv.text(F::SansBold, 10.0, NAVY, x, heading_y, Align::Left, "Kết quả theo từng năng lực");

    let code_w = 34.0;
    let pct_w = 38.0;
    let bar_w = 64.0;
    let name_x = x + code_w;
    let name_w = w - code_w - pct_w - bar_w - 16.0;
    let bar_x = x + w - pct_w - bar_w - 6.0;

    let header_y = heading_y + 16.0;
    cv.text(F::SansBold, 8.0, GREY, x + 4.0, header_y, Align::Left, "Mã");
    cv.text(F::SansBold, 8.0, GREY, name_x, header_y, Align::Left, "Năng lực");
    cv.text(F::SansBold, 8.0, GREY, x + w - 4.0, header_y, Align::Right, "Kết quả");
    cv.hline(NAVY, 0.8, x, x + w, header_y + 4.0);

    // Row height: 15 pt if there is room, down to 7 pt; past that, summarise.
    let avail = (bottom - (header_y + 4.0)).max(0.0);
    let n = rows.len().min(MAX_ROWS);
    let mut shown = n;
    let mut row_h = (avail / n as f32).min(15.0);
    if row_h < 7.0 {
        row_h = 7.0;
        shown = ((avail / row_h) as usize).saturating_sub(1);
    }
    let summary = rows.len() > shown;
    let size = (row_h * 0.62).min(8.8);

    let mut y = header_y + 4.0;
    for (i, (code, name, pct)) in rows.iter().take(shown).enumerate() {
        if i % 2 == 1 {
            cv.fill_rect(STRIPE, x, y, w, row_h);
        }
        let base = y + row_h / 2.0 + size * 0.35;
        let code = clean(code);
        let (csize, clines) = fit(cv.font(F::SansBold), &code, size, size * 0.7, code_w - 6.0, 1);
        cv.lines(F::SansBold, csize, NAVY, x + 4.0, base, Align::Left, &clines, 1.0);
        let name = clean(name);
        let (nsize, nlines) = fit(cv.font(F::Sans), &name, size, size * 0.75, name_w, 1);
        cv.lines(F::Sans, nsize, INK, name_x, base, Align::Left, &nlines, 1.0);

        let bar_h = (row_h * 0.3).min(4.5);
        let bar_top = y + (row_h - bar_h) / 2.0;
        cv.fill_rect(BAR_BG, bar_x, bar_top, bar_w, bar_h);
        cv.fill_rect(BAR, bar_x, bar_top, bar_w * (*pct).min(100) as f32 / 100.0, bar_h);
        cv.text(F::SansBold, size, INK, x + w - 4.0, base, Align::Right, &format!("{pct}%"));
        y += row_h;
    }
    cv.hline(BAR_BG, 0.6, x, x + w, y);
    if summary {
        let more = format!("… và {} năng lực khác", rows.len() - shown);
        cv.text(F::Sans, size.max(6.0), GREY, name_x, y + row_h * 0.8, Align::Left, &more);
    }
}

/// QR code, the URL, the instruction and the identifiers, in a column
/// `COL_W` wide centred on `cx`.
fn verification(cv: &mut Canvas, url: &str, cert_id: &str, key_id: &str, cx: f32, top: f32) {
    let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M)
        .or_else(|_| QrCode::with_error_correction_level(url.as_bytes(), EcLevel::L));

    // Text under the code, prepared first to know the column height.
    let url_size = 7.0;
    let ulines = wrap_url(cv.font(F::Sans), url, url_size, COL_W, 4);
    let hint = "Quét mã QR hoặc mở địa chỉ trên để kiểm tra chứng nhận.";
    let (hsize, hlines) = fit(cv.font(F::Sans), hint, 7.5, 6.0, COL_W, 3);
    let id_line = format!("Mã chứng nhận: {cert_id}");
    let (isize, ilines) = fit(cv.font(F::Sans), &id_line, 6.5, 5.0, COL_W, 3);
    let key_line = format!("Mã khóa ký: {key_id}");
    let (ksize, klines) = fit(cv.font(F::Sans), &key_line, 6.5, 5.0, COL_W, 2);

    let qr_modules = code.as_ref().map_or(25, |q| q.width()).max(1);
    let module = QR_SYMBOL / qr_modules as f32;
    let quiet = 4.0 * module;
    let qr_total = QR_SYMBOL + 2.0 * quiet;
    let text_h = 8.0
        + ulines.len() as f32 * url_size * 1.3
        + 5.0
        + hlines.len() as f32 * hsize * 1.3
        + 6.0
        + ilines.len() as f32 * isize * 1.3
        + klines.len() as f32 * ksize * 1.3;
    // Align with the table, but move up if the column would leave the page.
    let qr_top = top.min(BOTTOM + 4.0 - qr_total - text_h);
    let qr_x = cx - qr_total / 2.0;

    // White quiet zone with a thin gold frame just outside it.
    cv.fill_rect(WHITE, qr_x, qr_top, qr_total, qr_total);
    cv.stroke_rect(GOLD, 0.6, qr_x - 1.0, qr_top - 1.0, qr_total + 2.0, qr_total + 2.0);
    match &code {
        Ok(q) => draw_qr(cv, q, qr_x + quiet, qr_top + quiet, module),
        Err(_) => {
            let (s, l) = fit(cv.font(F::Sans), "Không tạo được mã QR cho địa chỉ này.", 7.0, 5.0, qr_total - 8.0, 3);
            cv.lines(F::Sans, s, GREY, cx, qr_top + qr_total / 2.0, Align::Center, &l, 1.3);
        }
    }

    let mut y = qr_top + qr_total + 8.0 + url_size;
    y = cv.lines(F::Sans, url_size, NAVY, cx, y, Align::Center, &ulines, 1.3);
    y = cv.lines(F::Sans, hsize, INK, cx, y + 5.0 + hsize * 1.3, Align::Center, &hlines, 1.3);
    y = cv.lines(F::Sans, isize, GREY, cx, y + 6.0 + isize * 1.3, Align::Center, &ilines, 1.3);
    cv.lines(F::Sans, ksize, GREY, cx, y + ksize * 1.3, Align::Center, &klines, 1.3);
}

/// Dark modules as one path of horizontal runs, filled once (no seams).
fn draw_qr(cv: &mut Canvas, q: &QrCode, x: f32, y_top: f32, module: f32) {
    let width = q.width();
    let colors = q.to_colors();
    cv.content.set_fill_rgb(0.0, 0.0, 0.0);
    let mut any = false;
    for (row, cells) in colors.chunks(width.max(1)).enumerate() {
        let mut col = 0;
        while col < cells.len() {
            if cells[col] != Color::Dark {
                col += 1;
                continue;
            }
            let start = col;
            while col < cells.len() && cells[col] == Color::Dark {
                col += 1;
            }
            let y = PAGE_H - y_top - (row + 1) as f32 * module;
            cv.content.rect(x + start as f32 * module, y, (col - start) as f32 * module, module);
            any = true;
        }
    }
    if any {
        cv.content.fill_nonzero();
    }
}

// ---------------------------------------------------------------------------
// PDF objects

fn finish_pdf(cv: Canvas, title: &str, issuer: &str, holder: &str) -> Option<Vec<u8>> {
    let Canvas { content, fonts } = cv;

    let mut next = 1;
    let mut alloc = || {
        let r = Ref::new(next);
        next += 1;
        r
    };
    let catalog_id = alloc();
    let pages_id = alloc();
    let page_id = alloc();
    let content_id = alloc();
    let info_id = alloc();
    // Per font: Type0, CIDFont, descriptor, ToUnicode, font file.
    let font_ids: Vec<[Ref; 5]> = (0..fonts.0.len()).map(|_| [alloc(), alloc(), alloc(), alloc(), alloc()]).collect();

    let mut pdf = Pdf::new();
    pdf.catalog(catalog_id).pages(pages_id).lang(TextStr("vi"));
    pdf.pages(pages_id).kids([page_id]).count(1);
    {
        let mut page = pdf.page(page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H)).parent(pages_id).contents(content_id);
        let mut resources = page.resources();
        let mut dict = resources.fonts();
        for (font, ids) in fonts.0.iter().zip(&font_ids) {
            dict.pair(Name(font.resource), ids[0]);
        }
    }
    pdf.stream(content_id, &deflate(&content.finish())).filter(Filter::FlateDecode);

    for (font, ids) in fonts.0.iter().zip(&font_ids) {
        write_font(&mut pdf, font, *ids)?;
    }

    pdf.document_info(info_id)
        .title(TextStr(&format!("{title} — {holder}")))
        .author(TextStr(issuer))
        .creator(TextStr("hocvuso"));

    Some(pdf.finish())
}

fn write_font(pdf: &mut Pdf, font: &Font, [type0_id, cid_id, desc_id, cmap_id, file_id]: [Ref; 5]) -> Option<()> {
    let subset = subsetter::subset(font.data, 0, &font.remapper).ok()?;

    // Subset tag: six capitals derived from the glyph set (PDF 9.6.4).
    let mut hash: u32 = 0x811c_9dc5;
    for g in font.remapper.remapped_gids() {
        for b in g.to_be_bytes() {
            hash = (hash ^ u32::from(b)).wrapping_mul(0x0100_0193);
        }
    }
    let mut name = String::with_capacity(7 + font.base_name.len());
    for _ in 0..6 {
        name.push(char::from(b'A' + (hash % 26) as u8));
        hash /= 26;
    }
    name.push('+');
    name.push_str(font.base_name);
    let base = Name(name.as_bytes());

    let system_info = SystemInfo { registry: Str(b"Adobe"), ordering: Str(b"Identity"), supplement: 0 };

    pdf.type0_font(type0_id)
        .base_font(base)
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid_id)
        .to_unicode(cmap_id);

    let widths: Vec<f32> = font.remapper.remapped_gids().map(|g| font.advance_units(g).round()).collect();
    let mut cid = pdf.cid_font(cid_id);
    cid.subtype(CidFontType::Type2)
        .base_font(base)
        .system_info(system_info)
        .font_descriptor(desc_id)
        .default_width(0.0)
        .cid_to_gid_map_predefined(Name(b"Identity"));
    cid.widths().consecutive(0, widths);
    drop(cid);

    let s = 1000.0 / font.units_per_em;
    let face = &font.face;
    let bbox = face.global_bounding_box();
    let mut flags = FontFlags::NON_SYMBOLIC;
    if font.serif {
        flags |= FontFlags::SERIF;
    }
    pdf.font_descriptor(desc_id)
        .name(base)
        .flags(flags)
        .bbox(Rect::new(
            f32::from(bbox.x_min) * s,
            f32::from(bbox.y_min) * s,
            f32::from(bbox.x_max) * s,
            f32::from(bbox.y_max) * s,
        ))
        .italic_angle(0.0)
        .ascent(f32::from(face.ascender()) * s)
        .descent(f32::from(face.descender()) * s)
        .cap_height(f32::from(face.capital_height().unwrap_or(face.ascender())) * s)
        .stem_v(if font.bold { 140.0 } else { 80.0 })
        .font_file2(file_id);

    let mut cmap = UnicodeCmap::new(Name(b"Custom"), system_info);
    for (&gid, &ch) in &font.to_unicode {
        cmap.pair(gid, ch);
    }
    pdf.stream(cmap_id, &deflate(&cmap.finish())).filter(Filter::FlateDecode);

    pdf.stream(file_id, &deflate(&subset))
        .filter(Filter::FlateDecode)
        .pair(Name(b"Length1"), i32::try_from(subset.len()).unwrap_or(i32::MAX));
    Some(())
}

fn deflate(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(data, 6)
}

/// Bare PDF with the verification URL and id in Helvetica (ASCII only), for
/// the case the embedded fonts cannot be used.
fn render_fallback(c: &PdfCertificate) -> Vec<u8> {
    let ascii =
        |s: &str| -> String { s.nfd().filter(|ch| ch.is_ascii() && !ch.is_ascii_control()).take(200).collect() };
    let mut content = Content::new();
    let lines = [ascii(c.title), ascii(c.holder_name), ascii(c.verify_url), ascii(c.certificate_id)];
    for (i, line) in lines.iter().enumerate() {
        content
            .begin_text()
            .set_font(Name(b"F1"), 12.0)
            .set_text_matrix([1.0, 0.0, 0.0, 1.0, 60.0, PAGE_H - 80.0 - 20.0 * i as f32])
            .show(Str(line.as_bytes()))
            .end_text();
    }
    let mut pdf = Pdf::new();
    let (catalog_id, pages_id, page_id, content_id, font_id) =
        (Ref::new(1), Ref::new(2), Ref::new(3), Ref::new(4), Ref::new(5));
    pdf.catalog(catalog_id).pages(pages_id);
    pdf.pages(pages_id).kids([page_id]).count(1);
    {
        let mut page = pdf.page(page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H)).parent(pages_id).contents(content_id);
        page.resources().fonts().pair(Name(b"F1"), font_id);
    }
    pdf.type1_font(font_id).base_font(Name(b"Helvetica"));
    pdf.stream(content_id, &content.finish());
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn competences() -> Vec<(String, String, u32)> {
        let names = [
            "Duyệt, tìm kiếm và lọc dữ liệu, thông tin và nội dung số",
            "Đánh giá dữ liệu, thông tin và nội dung số",
            "Quản lý dữ liệu, thông tin và nội dung số",
            "Tương tác thông qua các công nghệ số",
            "Chia sẻ thông qua các công nghệ số",
            "Tham gia với tư cách công dân thông qua các công nghệ số",
            "Hợp tác thông qua các công nghệ số",
            "Quy tắc ứng xử trên mạng",
            "Quản lý danh tính số",
            "Phát triển nội dung số",
            "Bảo vệ thiết bị và dữ liệu cá nhân, quyền riêng tư",
            "Bảo vệ sức khỏe, tinh thần và môi trường",
            "Giải quyết các vấn đề kỹ thuật",
        ];
        let codes = ["1.1", "1.2", "1.3", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "3.1", "4.1", "4.2", "5.1"];
        codes
            .iter()
            .zip(names)
            .enumerate()
            .map(|(i, (c, n))| (c.to_string(), n.to_string(), [100, 83, 67, 50, 100, 92][i % 6]))
            .collect()
    }

    fn sample<'a>(name: &'a str, comps: &'a [(String, String, u32)]) -> PdfCertificate<'a> {
        PdfCertificate {
            holder_name: name,
            title: "Chứng nhận đạt chuẩn kỹ năng số cơ bản",
            profile: "Người dân",
            level: 2,
            share_percent: 83,
            competences: comps,
            issued_on: "25/11/2026",
            issuer: "Ủy ban nhân dân tỉnh Phú Thọ — Phong trào Bình dân học vụ số",
            certificate_id: "3f2b9c1e-7a4d-4e8b-9c2f-1d5e6a7b8c9d",
            verify_url: "https://hocvuso.phutho.gov.vn/verify/3f2b9c1e-7a4d-4e8b-9c2f-1d5e6a7b8c9d",
            key_id: "k-1a2b3c4d",
        }
    }

    #[test]
    fn fonts_load_and_cover_vietnamese() {
        let fonts = Fonts::load().expect("embedded fonts parse");
        let letters = "ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹđĐẠẢẤẦẨẪẬẮẰẲẴẶẸẺẼẾỀỂỄỆỈỊỌỎỐỒỔỖỘỚỜỞỠỢỤỦỨỪỬỮỰỲỴỶỸ";
        for font in &fonts.0 {
            for ch in letters.chars() {
                assert_eq!(font.glyph(ch).1, ch, "{} lacks {ch}", font.base_name);
            }
        }
    }

    #[test]
    fn renders_sample() {
        let comps = competences();
        let pdf = render(&sample("Tòng Thị Phương Thảo Nguyễn Hoàng Yến Nhi", &comps));
        assert!(pdf.starts_with(b"%PDF"));
        assert!(pdf.len() < 150 * 1024, "PDF is {} bytes", pdf.len());
        // Fonts are embedded (not the fallback).
        assert!(pdf.windows(9).any(|w| w == b"FontFile2"));
    }

    #[test]
    fn empty_list_and_huge_inputs_do_not_panic() {
        let long_name: String = "Nguyễn Thị Lan ".chars().cycle().take(300).collect();
        let pdf = render(&sample(&long_name, &[]));
        assert!(pdf.starts_with(b"%PDF"));

        let one_word: String = "ữ".repeat(300);
        let many: Vec<(String, String, u32)> =
            (0..200).map(|i| (format!("{i}.{i}.{i}"), long_name.clone(), i * 7)).collect();
        let weird = "\u{0}\t\n\u{202E}😀 中文 e\u{0301}";
        let cert = PdfCertificate {
            holder_name: &one_word,
            title: &long_name,
            profile: weird,
            level: u8::MAX,
            share_percent: u32::MAX,
            competences: &many,
            issued_on: "",
            issuer: &long_name,
            certificate_id: &one_word,
            verify_url: &"x".repeat(5000),
            key_id: "",
        };
        assert!(render(&cert).starts_with(b"%PDF"));

        let empty = PdfCertificate {
            holder_name: "",
            title: "",
            profile: "",
            level: 0,
            share_percent: 0,
            competences: &[],
            issued_on: "",
            issuer: "",
            certificate_id: "",
            verify_url: "",
            key_id: "",
        };
        assert!(render(&empty).starts_with(b"%PDF"));
    }
}
