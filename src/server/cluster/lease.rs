//! The owner's lease: a key in a JetStream KV bucket whose `max_age` is the
//! lease's length. Taken by *create* (fails while the key exists), kept by
//! *update* at the revision last written (compare-and-swap), lost when an
//! update fails. A dead owner stops updating; the key ages out and the
//! next node's create succeeds.

use std::time::Duration;

use async_nats::jetstream::kv;

/// The bucket of leases.
pub const BUCKET: &str = "ccdesk-lease";

/// The bucket, created when absent with `max_age` = `lease`.
pub async fn bucket(
    js: &async_nats::jetstream::Context,
    lease: Duration,
) -> anyhow::Result<kv::Store> {
    kv_bucket(
        js,
        BUCKET,
        "ccdesk: which node owns each center",
        Some(lease),
    )
    .await
}

/// A KV bucket, created when absent (history 1; entries age out after
/// `max_age` when given). Created as its stream (the KV layout of the
/// NATS docs, ADR-8): the client's own bucket creation first asks for
/// account fields that nats-server 2.9 (Debian 12) does not send.
pub async fn kv_bucket(
    js: &async_nats::jetstream::Context,
    name: &str,
    description: &str,
    max_age: Option<Duration>,
) -> anyhow::Result<kv::Store> {
    if let Ok(kv) = js.get_key_value(name).await {
        return Ok(kv);
    }
    let mut stream = async_nats::jetstream::stream::Config {
        name: format!("KV_{name}"),
        description: Some(description.into()),
        subjects: vec![format!("$KV.{name}.>")],
        max_messages_per_subject: 1,
        allow_rollup: true,
        deny_delete: true,
        allow_direct: true,
        discard: async_nats::jetstream::stream::DiscardPolicy::New,
        num_replicas: 1,
        ..Default::default()
    };
    if let Some(age) = max_age {
        stream.max_age = age;
        // Must not outlast max_age; a renewal is never a duplicate anyway.
        stream.duplicate_window = age;
    }
    if let Err(e) = js.get_or_create_stream(stream).await {
        anyhow::bail!(
            "cannot create the JetStream KV bucket {name}: {e} (is JetStream on? nats-server -js)"
        );
    }
    js.get_key_value(name)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open the JetStream KV bucket {name}: {e}"))
}

/// A lease held: renew it before `max_age` passes.
#[derive(Debug, Clone)]
pub struct Held {
    pub key: String,
    pub node: String,
    pub revision: u64,
}

/// Take the lease on `key` for `node`, if no one holds it. `Ok(None)`:
/// someone does.
pub async fn take(kv: &kv::Store, key: &str, node: &str) -> anyhow::Result<Option<Held>> {
    match kv.create(key, node.to_string().into()).await {
        Ok(revision) => Ok(Some(Held {
            key: key.into(),
            node: node.into(),
            revision,
        })),
        Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => Ok(None),
        Err(e) => Err(anyhow::anyhow!("the lease on {key}: {e}")),
    }
}

/// Keep the lease: `Err` when it is lost (another node has it, or it aged
/// out before this renewal).
pub async fn renew(kv: &kv::Store, held: &mut Held) -> anyhow::Result<()> {
    let revision = kv
        .update(&held.key, held.node.clone().into(), held.revision)
        .await
        .map_err(|e| anyhow::anyhow!("the lease on {} is lost: {e}", held.key))?;
    held.revision = revision;
    Ok(())
}

/// Who holds the lease on `key` now, if anyone.
pub async fn holder(kv: &kv::Store, key: &str) -> anyhow::Result<Option<String>> {
    let e = kv
        .entry(key)
        .await
        .map_err(|e| anyhow::anyhow!("reading the lease on {key}: {e}"))?;
    Ok(e.filter(|e| e.operation == kv::Operation::Put)
        .map(|e| String::from_utf8_lossy(&e.value).into_owned()))
}

/// Give the lease up (a node stopping cleanly): the next node need not
/// wait for it to age out.
pub async fn give_up(kv: &kv::Store, held: &Held) {
    if let Err(e) = kv
        .delete_expect_revision(&held.key, Some(held.revision))
        .await
    {
        tracing::debug!(key = %held.key, error = %e, "the lease was not given up");
    }
}
