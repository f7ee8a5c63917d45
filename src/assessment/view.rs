//! How an item is shown on a question page: in the sitting's shuffled order, with the learner's
//! saved answer filled in, as plain form controls that work without JavaScript.

use base64::Engine;

use crate::assessment::item::{FormField, Item, KINDS, Response, Task};

pub struct Opt {
    pub value: usize,
    pub text: String,
    /// For a message: who sent it.
    pub from: String,
    pub checked: bool,
}

pub struct Step {
    pub name: String,
    pub text: String,
    /// The position the learner gave (1-based), 0 when none.
    pub chosen: usize,
}

pub struct Left {
    pub name: String,
    pub text: String,
    pub chosen: Option<usize>,
}

impl Left {
    pub fn is(&self, shown: &usize) -> bool {
        self.chosen == Some(*shown)
    }
}

pub struct FieldView {
    pub name: String,
    pub label: String,
    pub kind: &'static str,
    pub choices: Vec<(usize, String)>,
    pub value: String,
}

pub struct QrView {
    pub data_uri: String,
    pub bank: String,
    pub account: String,
    pub name: String,
    pub amount: String,
    pub note: String,
}

pub struct Shown {
    pub kind: &'static str,
    pub kind_label: &'static str,
    pub question: String,
    pub options: Vec<Opt>,
    pub truth: Option<bool>,
    pub steps: Vec<Step>,
    pub lefts: Vec<Left>,
    pub rights: Vec<(usize, String)>,
    pub fields: Vec<FieldView>,
    pub qr: Option<QrView>,
    pub rules: Vec<String>,
    pub answered: bool,
}

/// Where an item's own index `own` is shown.
fn shown_at(order: &[usize], own: usize) -> Option<usize> {
    order.iter().position(|o| *o == own)
}

pub fn shown(item: &Item, order: &[usize], saved: Option<&Response>) -> Shown {
    let mut view = Shown {
        kind: item.task.kind(),
        kind_label: KINDS.iter().find(|(k, _)| *k == item.task.kind()).map_or("", |(_, l)| l),
        question: item.question.clone(),
        options: Vec::new(),
        truth: None,
        steps: Vec::new(),
        lefts: Vec::new(),
        rights: Vec::new(),
        fields: Vec::new(),
        qr: None,
        rules: Vec::new(),
        answered: saved.is_some(),
    };
    let chosen: Vec<usize> = match saved {
        Some(Response::Choice { choice }) => vec![*choice],
        Some(Response::Choices { choices }) => choices.clone(),
        _ => Vec::new(),
    };
    let options = |texts: Vec<(String, String)>| -> Vec<Opt> {
        order
            .iter()
            .enumerate()
            .filter_map(|(s, own)| {
                texts.get(*own).map(|(from, text)| Opt {
                    value: s,
                    text: text.clone(),
                    from: from.clone(),
                    checked: chosen.contains(own),
                })
            })
            .collect()
    };
    match &item.task {
        Task::Single { choices, .. } | Task::Multiple { choices, .. } => {
            view.options = options(choices.iter().map(|c| (String::new(), c.clone())).collect());
        }
        Task::Sms { messages, .. } => {
            view.options = options(messages.iter().map(|m| (m.from.clone(), m.text.clone())).collect());
        }
        Task::TrueFalse { .. } => {
            view.truth = match saved {
                Some(Response::Truth { truth }) => Some(*truth),
                _ => None,
            };
        }
        Task::Ordering { steps } => {
            let sequence = match saved {
                Some(Response::Sequence { sequence }) => sequence.clone(),
                _ => Vec::new(),
            };
            view.steps = order
                .iter()
                .enumerate()
                .map(|(s, own)| Step {
                    name: format!("o{s}"),
                    text: steps.get(*own).cloned().unwrap_or_default(),
                    chosen: sequence.iter().position(|x| x == own).map_or(0, |p| p + 1),
                })
                .collect();
        }
        Task::Matching { pairs } => {
            let sequence = match saved {
                Some(Response::Sequence { sequence }) => sequence.clone(),
                _ => Vec::new(),
            };
            view.lefts = pairs
                .iter()
                .enumerate()
                .map(|(i, (left, _))| Left {
                    name: format!("m{i}"),
                    text: left.clone(),
                    chosen: sequence.get(i).and_then(|own| shown_at(order, *own)),
                })
                .collect();
            view.rights =
                order.iter().enumerate().filter_map(|(s, own)| pairs.get(*own).map(|(_, r)| (s, r.clone()))).collect();
        }
        Task::Vietqr { qr } => {
            let texts = match saved {
                Some(Response::Texts { texts }) => texts.clone(),
                _ => Vec::new(),
            };
            view.fields = vec![
                FieldView {
                    name: "so_tien".into(),
                    label: "Số tiền sẽ chuyển (đồng)".into(),
                    kind: "text",
                    choices: Vec::new(),
                    value: texts.first().cloned().unwrap_or_default(),
                },
                FieldView {
                    name: "nguoi_nhan".into(),
                    label: "Tên người nhận".into(),
                    kind: "text",
                    choices: Vec::new(),
                    value: texts.get(1).cloned().unwrap_or_default(),
                },
            ];
            let payload = vietqr_payload(&qr.bin, &qr.account, qr.amount, qr.note.as_deref());
            view.qr = Some(QrView {
                data_uri: qr_data_uri(&payload),
                bank: qr.bank.clone(),
                account: qr.account.clone(),
                name: qr.name.clone(),
                amount: format!("{} VND", crate::web::pages::number_vi(qr.amount as i64)),
                note: qr.note.clone().unwrap_or_default(),
            });
        }
        Task::Form { fields } => {
            let texts = match saved {
                Some(Response::Texts { texts }) => texts.clone(),
                _ => Vec::new(),
            };
            view.fields = fields
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    let (kind, choices) = match f {
                        FormField::Text { .. } => ("text", Vec::new()),
                        FormField::Date { .. } => ("date", Vec::new()),
                        FormField::Choice { choices, .. } => ("select", choices.iter().cloned().enumerate().collect()),
                    };
                    FieldView {
                        name: format!("f{i}"),
                        label: f.label().to_owned(),
                        kind,
                        choices,
                        value: texts.get(i).cloned().unwrap_or_default(),
                    }
                })
                .collect();
        }
        Task::Password { rules } => view.rules = rules.describe(),
    }
    view
}

/// The QR code as an SVG data URI (the page's policy allows `data:` images).
pub fn qr_data_uri(text: &str) -> String {
    let svg = qrcode::QrCode::new(text.as_bytes())
        .map(|code| code.render::<qrcode::render::svg::Color>().min_dimensions(200, 200).quiet_zone(true).build())
        .unwrap_or_default();
    format!("data:image/svg+xml;base64,{}", base64::engine::general_purpose::STANDARD.encode(svg))
}

/// A VietQR payload (EMVCo merchant-presented QR, NAPAS "QRIBFTTA": transfer to an account), as a
/// banking app reads it: the receiving bank's BIN and account, the amount in đồng and the note.
pub fn vietqr_payload(bin: &str, account: &str, amount: u64, note: Option<&str>) -> String {
    fn tlv(tag: &str, value: &str) -> String {
        format!("{tag}{:02}{value}", value.len())
    }
    let beneficiary = tlv("00", bin) + &tlv("01", account);
    let merchant = tlv("00", "A000000727") + &tlv("01", &beneficiary) + &tlv("02", "QRIBFTTA");
    let mut payload = tlv("00", "01") + &tlv("01", "12") + &tlv("38", &merchant);
    payload += &tlv("53", "704");
    payload += &tlv("54", &amount.to_string());
    payload += &tlv("58", "VN");
    if let Some(note) = note.filter(|n| !n.is_empty()) {
        payload += &tlv("62", &tlv("08", note));
    }
    payload += "6304";
    let crc = crc16_ccitt(payload.as_bytes());
    format!("{payload}{crc:04X}")
}

/// CRC-16/CCITT-FALSE, the checksum EMVCo QR codes end with.
fn crc16_ccitt(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0xffff;
    for byte in bytes {
        crc ^= u16::from(*byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 { (crc << 1) ^ 0x1021 } else { crc << 1 };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    #[test]
    fn emvco_checksum_matches_the_reference() {
        // CRC-16/CCITT-FALSE of "123456789" is 0x29B1.
        assert_eq!(super::crc16_ccitt(b"123456789"), 0x29b1);
        let p = super::vietqr_payload("970436", "1038275164", 85000, Some("Tien rau"));
        assert!(p.starts_with("000201010212385400"), "{p}");
        assert!(p.contains("5405850005802VN"), "{p}");
        assert!(p.contains("62120808Tien rau6304"), "{p}");
    }
}
