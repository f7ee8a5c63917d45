//! The certificate as a W3C Verifiable Credential (data model 2.0) in the Open Badges 3.0 model,
//! secured with a Data Integrity proof, cryptosuite `eddsa-jcs-2022`: the proof configuration and
//! the credential are each canonicalised with JCS (RFC 8785) and hashed with SHA-256; Ed25519
//! signs the two hashes, configuration first; `proofValue` is the signature in base58btc
//! multibase. `proof` is an array (a proof set of one), as 1EdTech's AchievementCredential JSON
//! Schema requires; credentials stored before that carry a single proof object, and both check.
//! Revocation is a W3C Bitstring Status List entry (see `status.rs`). `docs/certificates.md` shows
//! how to check one with any library.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::domain::grading::Grade;

pub const CONTEXT: [&str; 2] =
    ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"];
pub const CRYPTOSUITE: &str = "eddsa-jcs-2022";
/// 1EdTech's JSON Schema for an AchievementCredential, named in `credentialSchema`.
pub const SCHEMA_URL: &str =
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json";
pub const SCHEMA_TYPE: &str = "1EdTechJsonSchemaValidator2019";
/// The media type of a bare credential (VC data model 2.0).
pub const MEDIA_TYPE: &str = "application/vc";

fn base_of(public_url: &url::Url) -> &str {
    public_url.as_str().trim_end_matches('/')
}

/// The public page of what a certificate of a target group attests (`achievement.id`).
pub fn achievement_url(public_url: &url::Url, target_group: &str) -> String {
    format!("{}/chung-nhan/chuan/{target_group}", base_of(public_url))
}

/// The badge shown by wallets for every certificate.
pub fn image_url(public_url: &url::Url) -> String {
    format!("{}/chung-nhan/huy-hieu.svg", base_of(public_url))
}

/// Where the signed status list credential number `list` is published.
pub fn status_list_url(public_url: &url::Url, list: i64) -> String {
    format!("{}/api/v1/status/{list}", base_of(public_url))
}

/// The `credentialStatus` of a certificate at `index` of list `list`.
pub fn status_entry(public_url: &url::Url, list: i64, index: i64) -> Value {
    let list_url = status_list_url(public_url, list);
    json!({
        "id": format!("{list_url}#{index}"),
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": index.to_string(),
        "statusListCredential": list_url,
    })
}

/// `did:web` of the public address: the host (its port as `%3A`), then any path segments.
pub fn issuer_did(public_url: &url::Url) -> String {
    let mut did = format!("did:web:{}", public_url.host_str().unwrap_or("localhost"));
    if let Some(port) = public_url.port() {
        did.push_str(&format!("%3A{port}"));
    }
    for segment in public_url.path_segments().into_iter().flatten().filter(|s| !s.is_empty()) {
        did.push(':');
        did.push_str(segment);
    }
    did
}

pub fn method_id(did: &str, kid: &str) -> String {
    format!("{did}#{kid}")
}

/// What a certificate states.
pub struct Claim<'a> {
    pub id: &'a str,
    pub holder_name: &'a str,
    pub target_group: &'a str,
    pub profile_label: &'a str,
    pub level: u8,
    pub grade: &'a Grade,
    /// The competences' names, by code.
    pub competence_name: &'a dyn Fn(&str) -> String,
    pub framework_version: &'a str,
    pub issued_at: i64,
}

pub fn rfc3339(at: i64) -> String {
    chrono::DateTime::from_timestamp(at, 0).unwrap_or_default().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The unsigned credential, without its `credentialStatus` (added once its position is given, in
/// the transaction that stores it). Numbers are whole (percentages), so every JCS implementation agrees.
pub fn build(public_url: &url::Url, claim: &Claim) -> Value {
    let base = base_of(public_url);
    let did = issuer_did(public_url);
    let achievement_id = achievement_url(public_url, claim.target_group);
    let image = json!({"id": image_url(public_url), "type": "Image", "caption": "Huy hiệu Bình dân học vụ số"});
    let overall = format!("{achievement_id}#ket-qua");
    let level_id = format!("{achievement_id}#bac");
    let mut descriptions = vec![
        json!({"id": overall, "type": ["ResultDescription"], "name": "Tỉ lệ trả lời đúng (%)", "resultType": "Percent"}),
        json!({"id": level_id, "type": ["ResultDescription"], "name": "Bậc năng lực số", "resultType": "ext:ProficiencyLevel"}),
    ];
    let mut results = vec![
        json!({"type": ["Result"], "resultDescription": overall, "value": claim.grade.percent().to_string()}),
        json!({"type": ["Result"], "resultDescription": level_id, "value": claim.level.to_string()}),
    ];
    let mut alignment = Vec::new();
    for c in &claim.grade.competences {
        let id = format!("{achievement_id}#nang-luc-{}", c.code);
        let name = format!("{} {}", c.code, (claim.competence_name)(&c.code));
        descriptions.push(json!({"id": id, "type": ["ResultDescription"], "name": name, "resultType": "Percent"}));
        results.push(json!({"type": ["Result"], "resultDescription": id, "value": c.percent().to_string()}));
        alignment.push(json!({
            "type": ["Alignment"],
            "targetName": name,
            "targetCode": c.code,
            "targetFramework": format!("Khung năng lực số (Thông tư 02/2025/TT-BGDĐT), phiên bản {}", claim.framework_version),
            "targetUrl": format!("{base}/khung-nang-luc#nl-{}", c.code),
            "targetType": "ext:DigitalCompetence",
        }));
    }
    json!({
        "@context": CONTEXT,
        "id": format!("urn:uuid:{}", claim.id),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": format!("Chứng nhận kỹ năng số cơ bản — {}", claim.profile_label),
        "issuer": {
            "id": did,
            "type": ["Profile"],
            "name": "Ủy ban nhân dân tỉnh Phú Thọ — Phong trào Bình dân học vụ số",
            "url": base,
        },
        "validFrom": rfc3339(claim.issued_at),
        "image": image,
        "credentialSchema": [{"id": SCHEMA_URL, "type": SCHEMA_TYPE}],
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [{
                "type": "IdentityObject",
                "identityType": "name",
                "hashed": false,
                "identityHash": claim.holder_name,
            }],
            "achievement": {
                "id": achievement_id,
                "type": ["Achievement"],
                "achievementType": "Competency",
                "name": format!("Phổ cập kỹ năng số — {} (bậc {})", claim.profile_label, claim.level),
                "description": "Đạt chuẩn kỹ năng số cơ bản theo phong trào Bình dân học vụ số của tỉnh Phú Thọ.",
                "criteria": {"narrative": "Đạt bài kiểm tra của đối tượng: đủ tỉ lệ đúng chung và tỉ lệ tối thiểu ở từng năng lực bắt buộc."},
                "image": image,
                "alignment": alignment,
                "resultDescription": descriptions,
            },
            "result": results,
        },
    })
}

/// JCS (RFC 8785) of a value. serde_json's compact output is already canonical when its maps
/// iterate in key order and the value needs none of JCS's special cases: a key with a character
/// at U+E000 or above (where UTF-16 order, which JCS sorts by, can differ from code-point order)
/// or a number other than an integer within ±2^53 (JCS prints numbers as ECMAScript does). Our
/// credentials always qualify and skip the reference implementation's re-sorting, a third of the
/// cost of signing or checking one; anything else goes through it.
fn jcs(value: &Value) -> Vec<u8> {
    if maps_iterate_sorted() && needs_nothing_special(value) {
        serde_json::to_vec(value).expect("a JSON value serialises")
    } else {
        serde_json_canonicalizer::to_vec(value).expect("a JSON value canonicalises")
    }
}

fn needs_nothing_special(value: &Value) -> bool {
    const EXACT: u64 = 1 << 53;
    match value {
        Value::Number(n) => {
            n.as_u64().is_some_and(|u| u <= EXACT) || n.as_i64().is_some_and(|i| i.unsigned_abs() <= EXACT)
        }
        Value::Array(items) => items.iter().all(needs_nothing_special),
        Value::Object(map) => map.iter().all(|(k, v)| k.chars().all(|c| c < '\u{E000}') && needs_nothing_special(v)),
        Value::Null | Value::Bool(_) | Value::String(_) => true,
    }
}

/// False if some dependency turned on serde_json's `preserve_order` (maps keep insertion order).
fn maps_iterate_sorted() -> bool {
    static SORTED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *SORTED.get_or_init(|| {
        let probe: serde_json::Map<String, Value> =
            [("b", 1), ("a", 2)].into_iter().map(|(k, v)| (k.to_owned(), json!(v))).collect();
        probe.keys().map(String::as_str).eq(["a", "b"])
    })
}

/// The bytes Ed25519 signs: SHA-256(JCS(proof configuration)) || SHA-256(JCS(document)).
fn hash_data(config: &Value, document: &Value) -> Vec<u8> {
    let mut out = Sha256::digest(jcs(config)).to_vec();
    out.extend_from_slice(&Sha256::digest(jcs(document)));
    out
}

/// Adds the proof, as a proof set of one. `document` must not carry one.
pub fn sign(mut document: Value, key: &SigningKey, verification_method: &str, created: i64) -> Value {
    let mut proof = json!({
        "type": "DataIntegrityProof",
        "cryptosuite": CRYPTOSUITE,
        "created": rfc3339(created),
        "verificationMethod": verification_method,
        "proofPurpose": "assertionMethod",
        "@context": document["@context"].clone(),
    });
    let signature: Signature = key.sign(&hash_data(&proof, &document));
    proof["proofValue"] = Value::String(format!("z{}", bs58::encode(signature.to_bytes()).into_string()));
    document["proof"] = json!([proof]);
    document
}

/// The proofs of a secured document: a proof set (array), or the single object of credentials
/// issued before proofs became arrays.
fn proofs(secured: &Value) -> Vec<&Value> {
    match &secured["proof"] {
        Value::Array(items) => items.iter().collect(),
        Value::Object(_) => vec![&secured["proof"]],
        _ => Vec::new(),
    }
}

/// The key id a secured credential names, if it has a proof of our suite.
pub fn key_id(secured: &Value) -> Option<&str> {
    proofs(secured).first()?["verificationMethod"].as_str()?.rsplit_once('#').map(|(_, kid)| kid)
}

/// The credential with its proof as a proof set, whichever form it was stored in: the signature
/// covers the document without `proof`, so the form does not change what it signs.
pub fn with_proof_set(mut secured: Value) -> Value {
    if secured["proof"].is_object() {
        let proof = secured["proof"].take();
        secured["proof"] = json!([proof]);
    }
    secured
}

/// Checks a secured credential with a public key, as an outside verifier would: every proof of
/// the set (there is one) must be ours and hold.
pub fn verify(secured: &Value, public: &VerifyingKey) -> bool {
    let mut document = secured.clone();
    let Some(set) = document.as_object_mut().and_then(|o| o.remove("proof")) else { return false };
    let set = match set {
        Value::Array(items) => items,
        proof @ Value::Object(_) => vec![proof],
        _ => return false,
    };
    !set.is_empty() && set.into_iter().all(|proof| verify_one(&document, proof, public))
}

fn verify_one(document: &Value, mut proof: Value, public: &VerifyingKey) -> bool {
    let Some(value) = proof.as_object_mut().and_then(|p| p.remove("proofValue")) else { return false };
    if proof["cryptosuite"] != CRYPTOSUITE
        || proof["type"] != "DataIntegrityProof"
        || proof["@context"] != document["@context"]
    {
        return false;
    }
    let Some(encoded) = value.as_str().and_then(|v| v.strip_prefix('z')) else { return false };
    let Ok(bytes) = bs58::decode(encoded).into_vec() else { return false };
    let Ok(signature) = Signature::from_slice(&bytes) else { return false };
    public.verify(&hash_data(&proof, document), &signature).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::grading::{CompetenceScore, Grade};

    #[test]
    fn signed_credential_verifies_and_a_changed_byte_does_not() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let grade = Grade {
            right: 24,
            total: 30,
            passed: true,
            competences: vec![CompetenceScore { code: "1.1".into(), right: 4, total: 4, met: true }],
        };
        let url = url::Url::parse("http://127.0.0.1:8080/").unwrap();
        let claim = Claim {
            id: "5b0e9b7e-3f4c-4d2a-9a43-2c0b6f0e8d11",
            holder_name: "Nguyễn Thị Lan",
            target_group: "nguoi_dan",
            profile_label: "Người dân",
            level: 2,
            grade: &grade,
            competence_name: &|_| "Duyệt, tìm kiếm".into(),
            framework_version: "2025.1",
            issued_at: 1_764_000_000,
        };
        let did = issuer_did(&url);
        assert_eq!(did, "did:web:127.0.0.1%3A8080");
        let secured = sign(build(&url, &claim), &key, &method_id(&did, "k-1"), 1_764_000_000);
        assert_eq!(key_id(&secured), Some("k-1"));
        assert!(verify(&secured, &key.verifying_key()));
        assert!(secured["proof"].is_array(), "1EdTech's schema wants a proof set");
        // A credential stored before proofs became arrays still checks, in either form.
        let mut single = secured.clone();
        single["proof"] = secured["proof"][0].clone();
        assert!(verify(&single, &key.verifying_key()));
        assert_eq!(key_id(&single), Some("k-1"));
        assert_eq!(with_proof_set(single), secured);
        let mut empty = secured.clone();
        empty["proof"] = json!([]);
        assert!(!verify(&empty, &key.verifying_key()));
        let mut changed = secured.clone();
        changed["credentialSubject"]["identifier"][0]["identityHash"] = json!("Nguyễn Thị Lam");
        assert!(!verify(&changed, &key.verifying_key()));
        let other = SigningKey::from_bytes(&[8u8; 32]);
        assert!(!verify(&secured, &other.verifying_key()));
        // The short path gives the reference implementation's bytes, proof included.
        assert!(needs_nothing_special(&secured));
        assert_eq!(jcs(&secured), serde_json_canonicalizer::to_vec(&secured).unwrap());
    }

    #[test]
    fn jcs_matches_the_reference_and_leaves_it_the_special_cases() {
        let ordinary = json!({
            "z": [3, -9_007_199_254_740_992_i64, 9_007_199_254_740_992_u64, true, null],
            "Ä": "Nguyễn \u{1F600} \"trích\" \\ /\u{0}\u{8}\t\n\u{b}\u{c}\r\u{1f}\u{7f}\u{2028}",
            "a": {"b": {}, "A": [], "ă": "\u{E000}\u{FFFF}"},
            "10": 1, "2": 2, "": "",
        });
        assert!(needs_nothing_special(&ordinary));
        assert_eq!(jcs(&ordinary), serde_json_canonicalizer::to_vec(&ordinary).unwrap());
        // Keys a UTF-16 sort may order differently, floats and large integers take the long path.
        for special in [
            json!({"\u{FF21}": 1, "\u{1F600}": 2}),
            json!({"x": 1.5}),
            json!({"x": [1e21]}),
            json!({"x": 9_007_199_254_740_993_u64}),
            json!({"x": -9_007_199_254_740_993_i64}),
        ] {
            assert!(!needs_nothing_special(&special), "{special}");
            assert_eq!(jcs(&special), serde_json_canonicalizer::to_vec(&special).unwrap());
        }
        assert_eq!(jcs(&json!({"\u{FF21}": 1, "\u{1F600}": 2})), "{\"\u{1F600}\":2,\"\u{FF21}\":1}".as_bytes());
    }
}
