//! The operator's use cases (`stockwatch_core::app`) on each backend: the
//! one acknowledge the CLI's `ack` and the console's `a` both call.

use super::ledger::{claim, won};
use std::time::Duration;
use stockwatch_core::app::{AppError, Field, Operations};
use stockwatch_core::ports::{Delivery, PortError, Ports, RetryPolicy};
use stockwatch_domain::{Acknowledgement, AlertId, AlertState, Message, Timestamp};

fn operations(b: &Ports) -> Operations {
    Operations::new(b.clone(), RetryPolicy::default())
}

pub async fn acknowledging_checks_the_text_and_recovers_a_lost_answer(b: &Ports) {
    let ops = operations(b);
    let alert = won(b, claim("c1", "Berlin", "Dot", 10), "t").await;
    let at = Timestamp::now();
    // What people type is checked before anything is written.
    match ops.acknowledge(alert.id, "ana", Some("done\u{1b}[2J"), at).await {
        Err(AppError::Invalid {
            field: Field::Note,
            problem,
        }) => assert!(problem.contains("U+001B"), "{problem}"),
        other => panic!("a note with an escape was not refused: {other:?}"),
    }
    match ops.acknowledge(alert.id, "  ", None, at).await {
        Err(AppError::Invalid {
            field: Field::Name,
            problem,
        }) => assert_eq!(problem, "is empty"),
        other => panic!("an empty name was not refused: {other:?}"),
    }
    assert_eq!(
        b.ledger.get(alert.id).await.unwrap().state,
        AlertState::Open,
        "nothing written"
    );

    // The first try went through and its answer was lost: the retry finds
    // this very acknowledgement and is done, not refused.
    let ack = Acknowledgement {
        by: "ana".into(),
        at,
        note: Some("reordered".into()),
    };
    b.ledger.acknowledge(alert.id, &ack).await.unwrap();
    let again = ops
        .acknowledge(alert.id, " ana ", Some(" reordered "), at)
        .await
        .unwrap();
    assert_eq!(again.state, AlertState::Acknowledged);
    assert_eq!(again.acknowledged, Some(ack));

    // Someone else's acknowledgement is not mistaken for it.
    match ops.acknowledge(alert.id, "ben", None, Timestamp::now()).await {
        Err(AppError::Port(PortError::Conflict(m))) => assert!(m.contains("already acknowledged by ana"), "{m}"),
        other => panic!("a second acknowledgement was not refused: {other:?}"),
    }
}

pub async fn acknowledging_many_says_what_came_of_each(b: &Ports) {
    let ops = operations(b);
    let taken = won(b, claim("c1", "Berlin", "Dot", 10), "t").await;
    let open = won(b, claim("c2", "Berlin", "Echo", 10), "t").await;
    let ben = Acknowledgement {
        by: "ben".into(),
        at: Timestamp::now(),
        note: None,
    };
    b.ledger.acknowledge(taken.id, &ben).await.unwrap();
    let missing = AlertId(999_999);
    let outcome = ops
        .acknowledge_all(
            &[taken.id, open.id, missing],
            "ana",
            Some("reordered"),
            Timestamp::now(),
        )
        .await;
    assert_eq!(outcome.done.len(), 1, "{outcome:?}");
    assert_eq!(outcome.done[0].id, open.id);
    let by = outcome.done[0].acknowledged.as_ref().unwrap();
    assert_eq!((by.by.as_str(), by.note.as_deref()), ("ana", Some("reordered")));
    let failed: Vec<(AlertId, bool, bool)> = outcome
        .failed
        .iter()
        .map(|(id, e)| {
            let conflict = matches!(e, AppError::Port(PortError::Conflict(_)));
            let not_found = matches!(e, AppError::Port(PortError::NotFound(_)));
            (*id, conflict, not_found)
        })
        .collect();
    assert_eq!(failed, [(taken.id, true, false), (missing, false, true)]);
    assert_eq!(b.ledger.get(taken.id).await.unwrap().acknowledged.unwrap().by, "ben");
}

pub async fn an_acknowledgement_taken_back_opens_the_alert_again_for_everyone(b: &Ports) {
    let ops = operations(b);
    let alert = won(b, claim("c1", "Berlin", "Dot", 10), "t").await;
    let start = b.ledger.tip().await.unwrap();
    let acked = ops
        .acknowledge(alert.id, "ana", Some("wrong item"), Timestamp::now())
        .await
        .unwrap();
    let reopened = ops.unacknowledge(alert.id, Timestamp::now()).await.unwrap();
    assert_eq!(reopened.state, AlertState::Open);
    assert_eq!(reopened.acknowledged, None);
    assert!(
        reopened.version > acked.version,
        "{} after {}",
        reopened.version,
        acked.version
    );
    // Followers see it open again, after its acknowledgement.
    let seen = b.ledger.changes_since(Some(&start), 100).await.unwrap().alerts;
    let last = seen
        .iter()
        .rev()
        .find(|a| a.id == alert.id)
        .expect("the alert among the changes");
    assert_eq!(last.state, AlertState::Open, "{seen:?}");
    // Nothing left to take back; it can be acknowledged again.
    match ops.unacknowledge(alert.id, Timestamp::now()).await {
        Err(AppError::Port(PortError::Conflict(m))) => assert!(m.contains("no acknowledgement to take back"), "{m}"),
        other => panic!("an open alert was taken back: {other:?}"),
    }
    let again = ops.acknowledge(alert.id, "ben", None, Timestamp::now()).await.unwrap();
    assert_eq!(again.acknowledged.unwrap().by, "ben");
    match ops.unacknowledge(AlertId(999_999), Timestamp::now()).await {
        Err(AppError::Port(PortError::NotFound(_))) => {}
        other => panic!("a missing alert: {other:?}"),
    }
}

/// Taken back before its first message went out (held for a window, or a
/// sender that stopped): once sent, it is reminded of like any other.
pub async fn an_acknowledgement_taken_back_before_sending_leaves_reminders_due(b: &Ports) {
    let ops = operations(b);
    let alert = won(b, claim("c1", "Berlin", "Dot", 10), "me").await;
    ops.acknowledge(alert.id, "ana", None, Timestamp::now()).await.unwrap();
    ops.unacknowledge(alert.id, Timestamp::now()).await.unwrap();
    let sent = b
        .publisher
        .deliver(&[Message::for_alert(&alert)], "me", Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(sent, [Delivery::Sent]);
    let later = Timestamp(Timestamp::now().0 + 60_000);
    let due = b.ledger.due_reminders(later).await.unwrap();
    assert!(
        due.iter().any(|a| a.id == alert.id),
        "an open OUT alert, sent and unacknowledged, is due for a reminder: {due:?}"
    );
}

pub async fn acknowledging_many_with_a_bad_note_acknowledges_none(b: &Ports) {
    let ops = operations(b);
    let first = won(b, claim("c1", "Berlin", "Dot", 10), "t").await;
    let second = won(b, claim("c2", "Berlin", "Echo", 10), "t").await;
    let outcome = ops
        .acknowledge_all(&[first.id, second.id], "ana", Some("bell\u{7}"), Timestamp::now())
        .await;
    assert!(outcome.done.is_empty());
    let failed: Vec<AlertId> = outcome.failed.iter().map(|(id, _)| *id).collect();
    assert_eq!(failed, [first.id, second.id], "each is said, none is left out");
    assert!(
        outcome
            .failed
            .iter()
            .all(|(_, e)| matches!(e, AppError::Invalid { field: Field::Note, .. }))
    );
    assert_eq!(b.ledger.get(second.id).await.unwrap().state, AlertState::Open);
}
