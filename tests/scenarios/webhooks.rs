//! HubSpot edits arriving by webhook, and the engine's own writes queueing none.

use super::*;

// ---- webhooks ----

#[tokio::test]
async fn a_hubspot_edit_reaches_the_app_through_a_webhook_and_our_own_writes_queue_nothing() {
    on_both(
        "a_hubspot_edit_reaches_the_app_through_a_webhook_and_our_own_writes_queue_nothing",
        |kind| async move {
            use hubsync::sim::WebhookTarget;
            use hubsync::webhook::{ReceiverConfig, intake, router};
            const SECRET: &str = "client-secret";
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let base = format!("http://{}", listener.local_addr().unwrap());
            let target = WebhookTarget {
                retry_base: Duration::from_millis(20),
                batch_every: Duration::from_millis(50),
                ..WebhookTarget::new(format!("{base}/hook"), SECRET)
            };
            let w = World::start_with(kind,
        SeedData::contacts(vec![props(&[
            ("email", "ada@example.com"),
            ("firstname", "Ada"),
        ])]),
        "INSERT INTO contacts (email, first_name, phone) VALUES ('ada@example.com', 'Ada', '1');",
        SimSettings {
            webhook: Some(target),
            ..SimSettings::default()
        },
    )
    .await;
            let e = w.engine(vec![contacts(SyncRules::both())]);
            let (tx, rx) = tokio::sync::mpsc::channel(100);
            let app = router(
                ReceiverConfig {
                    client_secret: SecretString::from(SECRET),
                    public_base: base,
                    path: "/hook".into(),
                },
                tx,
            );
            tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
            let cancel = tokio_util::sync::CancellationToken::new();
            tokio::spawn(intake::feed(e.clone(), rx, cancel.clone()));
            w.sync(&e).await;
            let id = w.hubspot_id_of("ada@example.com");

            // hubsync writes the app's phone to HubSpot: HubSpot reports the change,
            // but as this app's own write, so no job is queued for it.
            w.app("UPDATE contacts SET phone = '2'").await;
            w.sync(&e).await;
            tokio::time::sleep(Duration::from_millis(500)).await;
            async fn queued(e: &Engine) -> usize {
                e.store()
                    .queued_jobs(50)
                    .await
                    .unwrap()
                    .into_iter()
                    .filter(|j| j.kind == JobKind::Webhook)
                    .count()
            }
            assert_eq!(queued(&e).await, 0, "an echo of our write queued a job");

            // A user edits the contact in HubSpot: the webhook queues its sync.
            w.sim
                .state()
                .set_property(ObjectKind::Contacts, &id, "firstname", "Augusta");
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while queued(&e).await == 0 {
                assert!(
                    std::time::Instant::now() < deadline,
                    "no webhook job within 10 s"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            e.run_until_idle().await.unwrap();
            assert_eq!(
                w.app_value("contacts", "email", "ada@example.com", "first_name")
                    .await
                    .as_deref(),
                Some("Augusta")
            );
            cancel.cancel();
        },
    )
    .await;
}
