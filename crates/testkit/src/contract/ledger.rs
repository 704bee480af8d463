//! The alert ledger: claims, lifecycle, resolution, takeover, following.

use stockwatch_core::ports::*;
use stockwatch_domain::{Acknowledgement, Alert, AlertId, AlertKind, AlertState, Message, Timestamp};

pub fn claim(change: &str, store: &str, item: &str, as_of: i64) -> AlertClaim {
    AlertClaim {
        change_id: change.into(),
        kind: AlertKind::Out,
        store: store.into(),
        item: item.into(),
        count: 0,
        threshold: 3,
        as_of: Timestamp(as_of),
        source: "k/a.csv".into(),
        notify: true,
    }
}

fn ack(by: &str) -> Acknowledgement {
    Acknowledgement {
        by: by.into(),
        at: Timestamp::now(),
        note: Some("reordered".into()),
    }
}

pub async fn won(b: &Ports, c: AlertClaim, token: &str) -> stockwatch_domain::Alert {
    match b
        .ledger
        .claim(&[c], &Holder::Sender(token.into()), Timestamp::now())
        .await
        .unwrap()
        .remove(0)
    {
        ClaimOutcome::Won(a) => a,
        ClaimOutcome::Lost(a) => panic!("expected to win the claim, lost to {a:?}"),
    }
}

pub async fn a_transition_is_claimed_once(b: &Ports) {
    let first = won(b, claim("c1", "Berlin", "Dot", 10), "t1").await;
    assert_eq!(first.state, AlertState::Open);
    assert_eq!(first.kind, AlertKind::Out);
    let again = b
        .ledger
        .claim(
            &[claim("c1", "Berlin", "Dot", 10)],
            &Holder::Sender("t2".into()),
            Timestamp::now(),
        )
        .await
        .unwrap();
    match &again[0] {
        ClaimOutcome::Lost(a) => assert_eq!(a.id, first.id),
        other => panic!("a second claim of the same change won: {other:?}"),
    }
    let mut low = claim("c1", "Berlin", "Dot", 10);
    low.kind = AlertKind::Low;
    assert!(
        matches!(
            b.ledger
                .claim(&[low], &Holder::Sender("t2".into()), Timestamp::now())
                .await
                .unwrap()[0],
            ClaimOutcome::Won(_)
        ),
        "kind is part of the claim"
    );
    assert_eq!(b.ledger.get(first.id).await.unwrap(), first);
}

/// A claim retried after its answer was lost (a timeout, a dropped
/// connection) is still the claimer's: it must publish, not wait for the
/// takeover after the lease.
pub async fn a_retried_claim_is_still_the_claimers(b: &Ports) {
    let first = won(b, claim("c7", "Berlin", "Dot", 10), "t1").await;
    let retried = won(b, claim("c7", "Berlin", "Dot", 10), "t1").await;
    assert_eq!(retried.id, first.id, "the same alert, not a second one");
    let other = b
        .ledger
        .claim(
            &[claim("c7", "Berlin", "Dot", 10)],
            &Holder::Sender("t2".into()),
            Timestamp::now(),
        )
        .await
        .unwrap();
    assert!(matches!(other[0], ClaimOutcome::Lost(_)), "another claimer still loses");
}

/// Alert numbers are read aloud: a claim that finds its alert already
/// there (a check run again, a repeat in one batch) takes no number, so
/// the alerts that exist are numbered without holes.
pub async fn alert_numbers_are_contiguous_whatever_is_claimed_again(b: &Ports) {
    let holder = Holder::Sender("t1".into());
    let first = won(b, claim("n1", "Berlin", "Dot", 10), "t1").await;
    for _ in 0..3 {
        b.ledger
            .claim(
                &[claim("n1", "Berlin", "Dot", 10), claim("n2", "Berlin", "Plus", 10)],
                &holder,
                Timestamp::now(),
            )
            .await
            .unwrap();
    }
    let batch = b
        .ledger
        .claim(
            &[
                claim("n3", "Pusan", "Tap", 10),
                claim("n3", "Pusan", "Tap", 10),
                claim("n4", "Pusan", "Show", 10),
            ],
            &holder,
            Timestamp::now(),
        )
        .await
        .unwrap();
    let last = won(b, claim("n5", "Pusan", "Echo", 10), "t1").await;
    let ids: Vec<u64> = batch
        .iter()
        .map(|o| match o {
            ClaimOutcome::Won(a) | ClaimOutcome::Lost(a) => a.id.0,
        })
        .collect();
    assert_eq!(ids[0], ids[1], "a repeat in one batch is the same alert");
    assert_eq!(
        last.id.0 - first.id.0,
        4,
        "five alerts, five numbers: {} … {} (batch {ids:?})",
        first.id,
        last.id
    );
}

pub async fn acknowledging_follows_the_lifecycle(b: &Ports) {
    let alert = won(b, claim("c1", "Berlin", "Dot", 10), "t").await;
    let acked = b.ledger.acknowledge(alert.id, &ack("ana")).await.unwrap();
    assert_eq!(acked.state, AlertState::Acknowledged);
    let by = acked.acknowledged.as_ref().unwrap();
    assert_eq!((by.by.as_str(), by.note.as_deref()), ("ana", Some("reordered")));
    match b.ledger.acknowledge(alert.id, &ack("ben")).await {
        Err(PortError::Conflict(m)) => assert!(m.contains("already acknowledged by ana"), "{m}"),
        other => panic!("a second acknowledgement was not refused: {other:?}"),
    }
    assert!(matches!(
        b.ledger.acknowledge(AlertId(999_999), &ack("ana")).await,
        Err(PortError::NotFound(_))
    ));
    assert_eq!(
        b.ledger.get(alert.id).await.unwrap().acknowledged.unwrap().by,
        "ana",
        "the refused ack changed nothing"
    );
}

pub async fn restocks_resolve_older_alerts_even_claimed_late(b: &Ports) {
    let early = won(b, claim("c1", "Berlin", "Dot", 10), "t").await;
    b.ledger.acknowledge(early.id, &ack("ana")).await.unwrap();
    let other = won(b, claim("c2", "Berlin", "Show", 10), "t").await;
    let restock = Restock {
        store: "Berlin".into(),
        item: "Dot".into(),
        as_of: Timestamp(20),
        change_id: "c3".into(),
        only: None,
    };
    assert_eq!(b.ledger.resolve(&[restock], Timestamp::now()).await.unwrap(), 1);
    let resolved = b.ledger.get(early.id).await.unwrap();
    assert_eq!(resolved.state, AlertState::Resolved);
    assert!(resolved.resolved_at.is_some());
    assert_eq!(
        b.ledger.get(other.id).await.unwrap().state,
        AlertState::Open,
        "other items stay open"
    );
    // A slower checker claims an outage older than the restock: born resolved.
    let late = won(b, claim("c0", "Berlin", "Dot", 5), "slow").await;
    assert_eq!(late.state, AlertState::Resolved);
    // An outage after the restock is a new, open alert.
    let newer = won(b, claim("c4", "Berlin", "Dot", 30), "t").await;
    assert_eq!(newer.state, AlertState::Open);
    assert!(matches!(
        b.ledger.acknowledge(late.id, &ack("ana")).await,
        Err(PortError::Conflict(_))
    ));
}

/// Sends `alert`'s message as `token`: what came of it.
async fn send(b: &Ports, alert: &Alert, token: &str) -> Delivery {
    let lease = std::time::Duration::from_secs(60);
    b.publisher
        .deliver(&[Message::for_alert(alert)], token, lease)
        .await
        .unwrap()
        .remove(0)
}

pub async fn stale_claims_are_taken_over(b: &Ports) {
    let alert = won(b, claim("c1", "Berlin", "Dot", 10), "dead").await;
    let mut quiet = claim("c2", "Berlin", "Show", 10);
    quiet.notify = false;
    won(b, quiet, "dead").await;
    let a_minute_ago = Timestamp(Timestamp::now().0 - 60_000);
    let taken = b
        .ledger
        .take_stale(a_minute_ago, "alive", Timestamp::now())
        .await
        .unwrap();
    assert!(taken.is_empty(), "a claim made just now is inside a one-minute lease");
    let later = Timestamp(Timestamp::now().0 + 60_000);
    let taken = b.ledger.take_stale(later, "alive", Timestamp::now()).await.unwrap();
    assert_eq!(
        taken.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![alert.id],
        "only claims that notify"
    );
    assert_eq!(
        send(b, &alert, "dead").await,
        Delivery::NotOurs,
        "the dead claimer lost the claim and must not send"
    );
    assert!(b.ledger.get(alert.id).await.unwrap().published_at.is_none());
    assert_eq!(send(b, &alert, "alive").await, Delivery::Sent);
    assert!(b.ledger.get(alert.id).await.unwrap().published_at.is_some());
    assert!(
        b.ledger
            .take_stale(later, "third", Timestamp::now())
            .await
            .unwrap()
            .is_empty(),
        "published claims are done"
    );
    assert_eq!(
        send(b, &alert, "alive").await,
        Delivery::NotOurs,
        "a published claim is sent once"
    );
}

/// A message carrying several alerts is sent only whole: if any claim it
/// carries is not the sender's, nothing is sent and nothing is marked.
pub async fn a_message_is_sent_only_with_every_claim_it_carries(b: &Ports) {
    let mine = won(b, claim("m1", "Berlin", "Dot", 10), "me").await;
    let theirs = won(b, claim("m2", "Berlin", "Show", 10), "them").await;
    let lease = std::time::Duration::from_secs(60);
    let both = Message {
        alert_ids: vec![mine.id, theirs.id],
        subject: "Inventory Alert!".into(),
        text: "Berlin is out of stock of 2 items".into(),
        sms: None,
        reminder: false,
    };
    let sent = b.publisher.deliver(&[both], "me", lease).await.unwrap();
    assert_eq!(sent, [Delivery::NotOurs]);
    assert!(
        b.ledger.get(mine.id).await.unwrap().published_at.is_none(),
        "not marked either"
    );
    let sent = b
        .publisher
        .deliver(&[Message::for_alert(&mine), Message::for_alert(&theirs)], "me", lease)
        .await
        .unwrap();
    assert_eq!(sent, [Delivery::Sent, Delivery::NotOurs], "each message on its own");
}

pub async fn listing_filters_and_pages(b: &Ports) {
    let mut ids = Vec::new();
    for i in 0..5 {
        let mut c = claim(&format!("c{i}"), "Berlin", &format!("item{i}"), 10);
        c.source = if i % 2 == 0 {
            "k/even.csv".into()
        } else {
            "k/odd.csv".into()
        };
        ids.push(won(b, c, "t").await.id);
    }
    b.ledger
        .resolve(
            &[Restock {
                store: "Berlin".into(),
                item: "item0".into(),
                as_of: Timestamp(20),
                change_id: "r".into(),
                only: None,
            }],
            Timestamp::now(),
        )
        .await
        .unwrap();
    let (mut seen, mut token) = (Vec::new(), None);
    loop {
        let page = b.ledger.list(&AlertFilter::default(), token.as_ref(), 2).await.unwrap();
        seen.extend(page.items.into_iter().map(|a| a.id));
        match page.next {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    let mut expected: Vec<_> = ids[1..].to_vec();
    expected.reverse();
    assert_eq!(seen, expected, "newest first, resolved left out");
    let all = b
        .ledger
        .list(
            &AlertFilter {
                include_resolved: true,
                ..Default::default()
            },
            None,
            100,
        )
        .await
        .unwrap();
    assert_eq!(all.items.len(), 5);
    let even = b
        .ledger
        .list(
            &AlertFilter {
                include_resolved: true,
                source: Some("k/even.csv".into()),
                state: None,
            },
            None,
            100,
        )
        .await
        .unwrap();
    assert_eq!(even.items.len(), 3);
    let open = b
        .ledger
        .list(
            &AlertFilter {
                include_resolved: true,
                source: None,
                state: Some(AlertState::Resolved),
            },
            None,
            100,
        )
        .await
        .unwrap();
    assert_eq!(open.items.len(), 1);
}

pub async fn followers_see_raises_and_acknowledgements(b: &Ports) {
    let tip = b.ledger.tip().await.unwrap();
    let alert = won(b, claim("c1", "Berlin", "Dot", 10), "t").await;
    let page = b.ledger.changes_since(Some(&tip), 100).await.unwrap();
    let (seen, cursor) = (page.alerts, page.cursor);
    assert_eq!(
        seen.iter().map(|a| (a.id, a.state)).collect::<Vec<_>>(),
        vec![(alert.id, AlertState::Open)]
    );
    let page = b.ledger.changes_since(Some(&cursor), 100).await.unwrap();
    let (nothing, same) = (page.alerts, page.cursor);
    assert!(nothing.is_empty());
    assert!(!page.gap);
    b.ledger.acknowledge(alert.id, &ack("ana")).await.unwrap();
    let seen = b.ledger.changes_since(Some(&same), 100).await.unwrap().alerts;
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].state, AlertState::Acknowledged);
    // Many alerts changed in one write are all seen, even across small pages.
    let claims: Vec<_> = (0..7)
        .map(|i| claim(&format!("m{i}"), "Pusan", &format!("i{i}"), 10))
        .collect();
    let before = b.ledger.tip().await.unwrap();
    b.ledger
        .claim(&claims, &Holder::Sender("t".into()), Timestamp::now())
        .await
        .unwrap();
    let (mut total, mut cursor) = (0, before);
    loop {
        let page = b.ledger.changes_since(Some(&cursor), 3).await.unwrap();
        if page.alerts.is_empty() {
            break;
        }
        total += page.alerts.len();
        cursor = page.cursor;
    }
    assert_eq!(total, 7);
}

/// Followers go by the ledger's own order: an acknowledgement stamped by a
/// machine whose clock is five minutes slow, made after a follower has seen
/// newer writes, still reaches it.
pub async fn an_acknowledgement_from_a_slow_clock_reaches_followers(b: &Ports) {
    let first = won(b, claim("s1", "Oslo", "Dot", 10), "t").await;
    let tip = b.ledger.tip().await.unwrap();
    let second = won(b, claim("s2", "Oslo", "Tap", 10), "t").await;
    let page = b.ledger.changes_since(Some(&tip), 100).await.unwrap();
    assert!(page.alerts.iter().any(|a| a.id == second.id), "{:?}", page.alerts);
    let slow = Acknowledgement {
        by: "slow clock".into(),
        at: Timestamp(Timestamp::now().0 - 5 * 60_000),
        note: None,
    };
    b.ledger.acknowledge(first.id, &slow).await.unwrap();
    let seen = b.ledger.changes_since(Some(&page.cursor), 100).await.unwrap().alerts;
    let acked: Vec<_> = seen.iter().filter(|a| a.id == first.id).collect();
    assert_eq!(acked.len(), 1, "the acknowledgement is seen once: {seen:?}");
    assert_eq!(acked[0].state, AlertState::Acknowledged);
    assert_eq!(
        acked[0].acknowledged.as_ref().unwrap().at,
        slow.at,
        "with the time its maker gave"
    );
}
