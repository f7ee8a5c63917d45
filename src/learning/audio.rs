//! Every lesson can be listened to: Vietnamese speech from espeak-ng (a GPL program, called, not
//! linked), compressed to Opus at 24 kbit/s, cached in the media store under the hash of what it says.

use std::process::Stdio;

use anyhow::{Context, bail};
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use crate::learning::media::Media;
use crate::store::Store;

const VOICE: &str = "vi";
/// Words per minute: a little slower than espeak's default, for older listeners.
const SPEED: &str = "150";
const BITRATE_KBPS: &str = "24";

/// The media key of the speech for `text`, synthesising it only when the store does not have it yet.
pub async fn speech(media: &Media, store: &Store, text: &str) -> anyhow::Result<String> {
    let settings = format!("{VOICE}|{SPEED}|{BITRATE_KBPS}|{text}");
    let key = format!("tts-{}.opus", crate::crypto::short_hash(settings.as_bytes()));
    if Media::exists(store, &key).await? || media.adopt(store, &key, "audio/ogg").await? {
        return Ok(key);
    }
    let opus = synthesise(text).await?;
    media.store_as(store, &key, "audio/ogg", opus).await?;
    Ok(key)
}

async fn synthesise(text: &str) -> anyhow::Result<Vec<u8>> {
    let dir = tempfile::tempdir().context("a temporary folder for speech")?;
    let wav = dir.path().join("speech.wav");
    let opus = dir.path().join("speech.opus");
    let mut espeak = Command::new("espeak-ng")
        .args(["-v", VOICE, "-s", SPEED, "--stdin", "-w"])
        .arg(&wav)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("running espeak-ng (Debian package espeak-ng)")?;
    let mut stdin = espeak.stdin.take().context("espeak-ng stdin")?;
    stdin.write_all(text.as_bytes()).await?;
    drop(stdin);
    let out = espeak.wait_with_output().await?;
    if !out.status.success() {
        bail!("espeak-ng failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let out = Command::new("opusenc")
        .args(["--quiet", "--bitrate", BITRATE_KBPS, "--speech"])
        .arg(&wav)
        .arg(&opus)
        .output()
        .await
        .context("running opusenc (Debian package opus-tools)")?;
    if !out.status.success() {
        bail!("opusenc failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(tokio::fs::read(&opus).await?)
}
