//! What every page shares: the frame (who is signed in, the totals, the
//! follower's state), times, OUT/LOW as shown, alerts as listed, links.

use crate::picture::Live;
use crate::session::Visitor;
use crate::state::AppState;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use stockwatch_domain::{Alert, AlertState, Level, Timestamp};

/// Renders a template, or says it could not (never a half page).
pub fn page<T: Template>(template: T) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a page could not be drawn");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "this page could not be drawn; the log says why",
            )
                .into_response()
        }
    }
}

/// Percent-encodes a piece of a URL's query (askama escapes the result for HTML).
pub fn url_part(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

pub fn store_url(store: &str) -> String {
    format!("/store?name={}", url_part(store))
}

pub fn item_url(store: &str, item: &str) -> String {
    format!("/item?store={}&item={}", url_part(store), url_part(item))
}

/// What every page's header and footer show.
pub struct Frame {
    pub title: String,
    pub user: Option<String>,
    pub csrf: String,
    /// Nobody can sign in: the dashboard is read-only.
    pub sign_in_offered: bool,
    pub uploads_offered: bool,
    pub ready: bool,
    pub trouble: Option<String>,
    pub stores: usize,
    pub items: u32,
    pub out: u32,
    pub low: u32,
    pub location: String,
    /// The picture's version drawn: a page whose version is current need
    /// not read itself again when its event stream (re)connects.
    pub version: u64,
}

impl Frame {
    pub fn new(shared: &AppState, visitor: &Visitor, title: &str) -> Frame {
        let live = shared.picture.read();
        Frame::with(shared, visitor, title, &live)
    }

    pub fn with(shared: &AppState, visitor: &Visitor, title: &str, live: &Live) -> Frame {
        let totals = live.stock.totals();
        Frame {
            title: title.to_string(),
            user: visitor.user.clone(),
            csrf: visitor.csrf.clone().unwrap_or_default(),
            sign_in_offered: shared.sign_in.is_some(),
            uploads_offered: shared.uploads.is_some(),
            ready: live.ready,
            trouble: live.trouble.clone(),
            stores: live.stock.store_count(),
            items: totals.items,
            out: totals.out,
            low: totals.low,
            location: shared.location.clone(),
            version: live.version,
        }
    }

    /// Acting is offered: signed in, with a token for the forms.
    pub fn can_act(&self) -> bool {
        self.user.is_some()
    }
}

/// A time as the pages show it: UTC text, and a machine-readable time the
/// page's script turns into the reader's local time.
pub struct When {
    pub text: String,
    pub iso: String,
}

impl When {
    pub fn of(t: Timestamp) -> When {
        When {
            text: t.to_display(),
            iso: t.to_rfc3339(),
        }
    }
}

/// OUT, LOW or OK with the glyph and class that show it.
pub struct Shown {
    pub word: &'static str,
    pub glyph: &'static str,
    pub class: &'static str,
}

pub fn shown(level: Level) -> Shown {
    match level {
        Level::Out => Shown {
            word: level.label(),
            glyph: "✖",
            class: "out",
        },
        Level::Low => Shown {
            word: level.label(),
            glyph: "▲",
            class: "low",
        },
        Level::Ok => Shown {
            word: level.label(),
            glyph: "",
            class: "ok",
        },
    }
}

pub struct AlertLine {
    pub id: String,
    pub kind: &'static str,
    pub store: String,
    pub item: String,
    pub store_url: String,
    pub item_url: String,
    pub count: u32,
    pub state: &'static str,
    pub open: bool,
    pub raised: When,
    pub by: Option<String>,
    pub by_at: Option<When>,
    pub note: Option<String>,
}

pub fn alert_line(alert: &Alert) -> AlertLine {
    AlertLine {
        id: alert.id.to_string(),
        kind: alert.kind.as_str(),
        store_url: store_url(&alert.store),
        item_url: item_url(&alert.store, &alert.item),
        store: alert.store.clone(),
        item: alert.item.clone(),
        count: alert.count,
        state: alert.state.as_str(),
        open: alert.state == AlertState::Open,
        raised: When::of(alert.raised_at),
        by: alert.acknowledged.as_ref().map(|a| a.by.clone()),
        by_at: alert.acknowledged.as_ref().map(|a| When::of(a.at)),
        note: alert.acknowledged.as_ref().and_then(|a| a.note.clone()),
    }
}

/// `to` if it is a path of this site, else `/`: a redirect after a form or
/// a sign-in never leaves the site. Only printable ASCII, one leading
/// slash (browsers drop tabs and newlines, and read `/\` and `//` as
/// another host).
pub fn local_path(to: &str) -> &str {
    let printable = to.bytes().all(|b| b.is_ascii_graphic());
    if printable && to.starts_with('/') && !to.starts_with("//") && !to.contains('\\') {
        to
    } else {
        "/"
    }
}
