//! Uploading a CSV from the page: the file (picked or dropped) is streamed
//! to a temporary file under the server's size cap, previewed with the
//! file pane's code (first rows, every problem by line, the verdict), and
//! held until the signed-in user confirms; then stored, loaded and checked
//! as `stockwatch upload` does, and its report shown. A rejected file is
//! kept in the bucket with its report, as from any front end.

use crate::held::HeldUpload;
use crate::session::{Refused, Visitor};
use crate::state::AppState;
use crate::view::{Frame, page};
use askama::Template;
use axum::extract::{Form, Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use stockwatch_domain::preview::{Preview, PreviewRow, Previewer, Verdict};
use tokio::io::AsyncWriteExt;

/// Rows of the file the preview lists.
const PREVIEW_ROWS: usize = 200;
/// A body that sends nothing for this long is cut (a stalled client
/// must not hold a temporary file and a connection for ever).
const CHUNK_WAIT: Duration = Duration::from_secs(30);
/// A form token is 64 hex digits; a longer field is no token.
const TOKEN_BYTES: usize = 256;

#[derive(Template)]
#[template(path = "upload.html")]
struct UploadPage {
    frame: Frame,
    max_bytes: String,
    problem: Option<String>,
}

fn megabytes(bytes: u64) -> String {
    format!("{} MB", bytes / 1_000_000)
}

pub fn page_for(shared: &AppState, visitor: &Visitor, problem: Option<String>, status: StatusCode) -> Response {
    let upload = UploadPage {
        frame: Frame::new(shared, visitor, "Upload"),
        max_bytes: megabytes(shared.max_upload_bytes),
        problem,
    };
    (status, page(upload)).into_response()
}

pub async fn form_page(State(shared): State<AppState>, visitor: Visitor) -> Response {
    if visitor.user.is_none() {
        return Redirect::to("/login?next=%2Fupload").into_response();
    }
    if shared.uploads.is_none() {
        return (StatusCode::FORBIDDEN, "this dashboard is read-only: uploads are off").into_response();
    }
    page_for(&shared, &visitor, None, StatusCode::OK)
}

pub struct PreviewLine {
    pub line: u64,
    pub store: String,
    pub item: String,
    pub count: String,
    pub state: String,
    pub class: &'static str,
}

#[derive(Template)]
#[template(path = "preview.html")]
struct PreviewPage {
    frame: Frame,
    name: String,
    token: String,
    rows: Vec<PreviewLine>,
    problems: Vec<String>,
    problem_count: u64,
    summary_rows: u64,
    stores: usize,
    out: u64,
    low: u64,
    loads: bool,
}

/// The file's name as kept: its last path part, a plain name.
fn file_name(given: Option<&str>) -> String {
    let name = given
        .and_then(|n| n.rsplit(['/', '\\']).next())
        .map(str::trim)
        .filter(|n| !n.is_empty() && *n != "." && *n != "..")
        .unwrap_or("upload.csv");
    name.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// The multipart form: `csrf` first, then `file`.
pub async fn receive(State(shared): State<AppState>, visitor: Visitor, mut form: Multipart) -> Response {
    let Some(_) = &shared.uploads else {
        return (StatusCode::FORBIDDEN, "this dashboard is read-only: uploads are off").into_response();
    };
    // Nothing of the body is read for a visitor who has not signed in.
    if visitor.user.is_none() {
        return Refused::NotSignedIn.into_response();
    }
    let mut csrf = None;
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => return (StatusCode::BAD_REQUEST, format!("the upload could not be read: {e}")).into_response(),
        };
        match field.name() {
            Some("csrf") => csrf = small_field(field).await,
            Some("file") => {
                let user = match visitor.acting(csrf.as_deref().unwrap_or_default()) {
                    Ok(user) => user.to_string(),
                    Err(refused) => return refused.into_response(),
                };
                let name = file_name(field.file_name());
                return match save(field, &name, shared.max_upload_bytes).await {
                    Ok((dir, path)) => preview(&shared, &visitor, user, name, dir, path).await,
                    Err((status, why)) => page_for(&shared, &visitor, Some(why), status),
                };
            }
            _ => {}
        }
    }
    if csrf.is_none() || visitor.user.is_none() {
        return Refused::NotSignedIn.into_response();
    }
    page_for(
        &shared,
        &visitor,
        Some("no file was sent: pick or drop a CSV file".into()),
        StatusCode::BAD_REQUEST,
    )
}

/// A short field's text (a token), or `None` past `TOKEN_BYTES` or a stall.
async fn small_field(mut field: axum::extract::multipart::Field<'_>) -> Option<String> {
    let mut bytes = Vec::new();
    while let Ok(Ok(Some(chunk))) = tokio::time::timeout(CHUNK_WAIT, field.chunk()).await {
        bytes.extend_from_slice(&chunk);
        if bytes.len() > TOKEN_BYTES {
            return None;
        }
    }
    String::from_utf8(bytes).ok()
}

/// Streams the field into a file of its own under the cap.
async fn save(
    mut field: axum::extract::multipart::Field<'_>,
    name: &str,
    cap: u64,
) -> Result<(tempfile::TempDir, PathBuf), (StatusCode, String)> {
    let io = |e: std::io::Error| {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot hold the upload: {e}"),
        )
    };
    let dir = tempfile::Builder::new()
        .prefix("stockwatch-upload-")
        .tempdir()
        .map_err(io)?;
    let path = dir.path().join(name);
    let mut file = tokio::fs::File::create(&path).await.map_err(io)?;
    let mut written = 0u64;
    loop {
        let chunk = match tokio::time::timeout(CHUNK_WAIT, field.chunk()).await {
            Ok(Ok(Some(chunk))) => chunk,
            Ok(Ok(None)) => break,
            Ok(Err(e)) => {
                return Err((
                    StatusCode::BAD_REQUEST,
                    format!("the upload broke off: {e}; nothing was kept"),
                ));
            }
            Err(_) => {
                return Err((
                    StatusCode::REQUEST_TIMEOUT,
                    "the upload stalled; nothing was kept".into(),
                ));
            }
        };
        written += chunk.len() as u64;
        if written > cap {
            return Err((
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the file is larger than this server takes ({}); nothing was kept",
                    megabytes(cap)
                ),
            ));
        }
        file.write_all(&chunk).await.map_err(io)?;
    }
    file.sync_all().await.map_err(io)?;
    Ok((dir, path))
}

async fn preview(
    shared: &AppState,
    visitor: &Visitor,
    user: String,
    name: String,
    dir: tempfile::TempDir,
    path: PathBuf,
) -> Response {
    let thresholds = shared.thresholds.clone();
    let read = path.clone();
    let previewed = tokio::task::spawn_blocking(move || -> std::io::Result<Preview> {
        let file = std::io::BufReader::new(std::fs::File::open(read)?);
        let keys = Box::new(stockwatch_core::pipeline::keys::DiskKeys::default());
        Ok(Previewer::with_keys(file, keys, thresholds, PREVIEW_ROWS).run())
    })
    .await;
    let preview = match previewed {
        Ok(Ok(preview)) => preview,
        Ok(Err(e)) => {
            return page_for(
                shared,
                visitor,
                Some(format!("cannot read the upload: {e}")),
                StatusCode::INTERNAL_SERVER_ERROR,
            );
        }
        Err(e) => {
            return page_for(
                shared,
                visitor,
                Some(format!("the preview failed: {e}")),
                StatusCode::INTERNAL_SERVER_ERROR,
            );
        }
    };
    let token = crate::session::random_token();
    let rows = preview.rows.iter().map(preview_line).collect();
    let loads = preview.verdict == Verdict::WouldLoad;
    let page_data = PreviewPage {
        frame: Frame::new(shared, visitor, "Upload preview"),
        name: name.clone(),
        token: token.clone(),
        rows,
        problems: preview.problems.iter().map(|p| p.to_string()).collect(),
        problem_count: preview.summary.problems,
        summary_rows: preview.summary.rows,
        stores: preview.summary.stores,
        out: preview.summary.out,
        low: preview.summary.low,
        loads,
    };
    shared.held_uploads.hold(
        token,
        HeldUpload {
            user,
            path,
            dir,
            at: Instant::now(),
        },
    );
    page(page_data)
}

fn preview_line(row: &PreviewRow) -> PreviewLine {
    match row {
        PreviewRow::Valid { row, level } => {
            let shown = crate::view::shown(*level);
            PreviewLine {
                line: row.line,
                store: row.store.to_string(),
                item: row.item.to_string(),
                count: row.count.to_string(),
                state: format!("{} {}", shown.glyph, shown.word).trim().to_string(),
                class: shown.class,
            }
        }
        PreviewRow::Invalid { line, problems } => PreviewLine {
            line: *line,
            store: String::new(),
            item: String::new(),
            count: String::new(),
            state: problems
                .iter()
                .map(|p| p.message.clone())
                .collect::<Vec<_>>()
                .join("; "),
            class: "bad",
        },
    }
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    frame: Frame,
    name: String,
    key: String,
    status: &'static str,
    loaded: bool,
    rows: u64,
    stores: u64,
    changed: u64,
    unchanged: u64,
    older: u64,
    failed_rows: usize,
    problems: Vec<String>,
    problem_count: u64,
    failure: Option<String>,
    alerts: u64,
    alerts_out: u64,
    alerts_low: u64,
    check_error: Option<String>,
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    csrf: String,
    token: String,
}

pub async fn confirm(State(shared): State<AppState>, visitor: Visitor, Form(form): Form<ConfirmForm>) -> Response {
    let user = match visitor.acting(&form.csrf) {
        Ok(user) => user.to_string(),
        Err(refused) => return refused.into_response(),
    };
    let Some(uploads) = shared.uploads.clone() else {
        return (StatusCode::FORBIDDEN, "this dashboard is read-only: uploads are off").into_response();
    };
    let Some(held) = shared.held_uploads.take(&form.token, &user) else {
        let why = "that preview is no longer held (confirmed already, or over 30 minutes old): upload the file again";
        return page_for(&shared, &visitor, Some(why.into()), StatusCode::GONE);
    };
    let name = held
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match uploads.upload_file(&held.path, None, None).await {
        Ok(uploaded) => {
            let report = &uploaded.outcome.report;
            tracing::info!(user = %user, key = %uploaded.outcome.key, status = report.status.as_str(), "uploaded from the dashboard");
            page(ReportPage {
                frame: Frame::new(&shared, &visitor, "Upload report"),
                name,
                key: uploaded.outcome.key.to_string(),
                status: report.status.as_str(),
                loaded: uploaded.outcome.is_loaded(),
                rows: report.rows,
                stores: report.stores,
                changed: report.write.changed,
                unchanged: report.write.unchanged,
                older: report.write.older,
                failed_rows: report.write.failed.len(),
                problems: report.problems.iter().map(|p| p.to_string()).collect(),
                problem_count: report.problem_count,
                failure: report.failure.clone(),
                alerts: uploaded.counts.total,
                alerts_out: uploaded.counts.out,
                alerts_low: uploaded.counts.low,
                check_error: uploaded.check_error.map(|e| e.to_string()),
            })
        }
        Err(e) => page_for(&shared, &visitor, Some(e.to_string()), StatusCode::SERVICE_UNAVAILABLE),
    }
}
