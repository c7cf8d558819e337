//! Telephony: ccdesk as a SIP back-to-back user agent (B2BUA) and media
//! anchor, on rsipstack.
//!
//! The gateway is one more kind of customer side. It logs in to the center
//! as a trunk over the center's own command channel ([`trunk::TrunkLink`])
//! and speaks the protocol's `Customer.*` methods; the center never sees
//! SIP. An INVITE from a configured trunk to a configured number becomes a
//! `Customer.call`, answered at once; the call's RTP becomes the session's
//! customer line in its media bridge ([`line::RtpLine`]), so the caller
//! hears the queue's music while waiting, then the agent, and everything
//! the bridge does (hold, mute, monitors, recording, recognition) works on
//! it. The caller's BYE is `Customer.hangUp`; the session's end (an agent
//! hanging up) is a BYE to the caller.
//!
//! See docs/TELEPHONY.md.

mod digest;
pub mod line;
mod outbound;
mod phones;
pub mod registrar;
mod reinvite;
pub mod sdp;
pub mod trunk;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use rsipstack::dialog::dialog::{
    DialogState, DialogStateReceiver, DialogStateSender, TerminatedReason,
};
use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::prelude::{HeadersExt, ToTypedHeader};
use rsipstack::sip::{Header, Method, StatusCode};
use rsipstack::transaction::{Transaction, TransactionReceiver};
use rsipstack::transport::tcp_listener::TcpListenerConnection;
use rsipstack::transport::tls::{TlsConfig, TlsListenerConnection};
use rsipstack::transport::udp::UdpConnection;
use rsipstack::transport::TransportLayer;
use rsipstack::EndpointBuilder;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use self::line::{PortPool, RtpLine};
use self::trunk::TrunkLink;
use super::center::{CenterHandle, ConnId};
use super::config::{ServerConfig, SipNumber};
use crate::protocol::{CallType, CustomerCallParams, Event, Request, SessionParams};

/// A running SIP gateway; it stops when dropped.
pub struct Sip {
    /// The address SIP listens on (UDP and TCP).
    pub addr: SocketAddr,
    /// Where SIP over TLS listens, when `[sip] tls_listen` is set.
    pub tls_addr: Option<SocketAddr>,
    /// The RTP ports, for counting what calls hold.
    pub ports: Arc<PortPool>,
    cancel: CancellationToken,
}

impl Drop for Sip {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// The address SIP over TLS listens on. rsipstack binds it itself once
/// the endpoint serves, and could not say which port `0` became: the port
/// is checked free here, so that a port in use is an error at start.
async fn tls_listener(cfg: &ServerConfig, listen: &str) -> anyhow::Result<SocketAddr> {
    let addr: SocketAddr = listen
        .parse()
        .map_err(|e| anyhow::anyhow!("sip.tls_listen `{listen}`: {e}"))?;
    if addr.port() == 0 {
        anyhow::bail!("sip.tls_listen `{listen}` needs a port (5061 is SIP over TLS's)");
    }
    if !cfg.tls() {
        anyhow::bail!("sip.tls_listen needs [server] tls_cert and tls_key");
    }
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("sip: cannot listen on {addr} (TLS): {e}"))?;
    Ok(addr)
}

/// The certificate and key of `wss://`, for SIP over TLS; checked here so
/// that a file that is not a usable certificate stops the start.
fn tls_config(cfg: &ServerConfig) -> anyhow::Result<TlsConfig> {
    let (Some(cert), Some(key)) = (&cfg.server.tls_cert, &cfg.server.tls_key) else {
        anyhow::bail!("sip.tls_listen needs [server] tls_cert and tls_key");
    };
    crate::tls::acceptor(cert, key)?;
    let read = |p: &std::path::Path| {
        std::fs::read(p).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", p.display()))
    };
    Ok(TlsConfig {
        cert: Some(read(cert)?),
        key: Some(read(key)?),
        ..TlsConfig::default()
    })
}

/// Start the gateway when `[sip] listen` is set; `conn` is its trunk
/// connection's number with the center; `node`, a cluster's node it runs
/// on (its trunk is then `sip-<node>`, and carries customers' calls only).
pub async fn start(
    cfg: Arc<ServerConfig>,
    users: Arc<crate::server::users::Users>,
    center: CenterHandle,
    conn: ConnId,
    node: Option<&str>,
) -> anyhow::Result<Option<Sip>> {
    let Some(listen) = &cfg.sip.listen else {
        return Ok(None);
    };
    let addr: SocketAddr = listen.parse()?;
    let cancel = CancellationToken::new();
    let transport = TransportLayer::new(cancel.clone());
    let udp = UdpConnection::create_connection(addr, None, Some(cancel.child_token()))
        .await
        .map_err(|e| anyhow::anyhow!("sip: cannot listen on {addr} (UDP): {e}"))?;
    let bound: SocketAddr = udp
        .get_addr()
        .addr
        .clone()
        .try_into()
        .map_err(|e| anyhow::anyhow!("sip: the UDP address: {e:?}"))?;
    transport.add_transport(udp.into());
    let tcp_addr = SocketAddr::new(addr.ip(), bound.port());
    let tcp = TcpListenerConnection::new(tcp_addr, None)
        .await
        .map_err(|e| anyhow::anyhow!("sip: cannot listen on {tcp_addr} (TCP): {e}"))?;
    transport.add_transport(tcp.into());
    let tls_addr = match &cfg.sip.tls_listen {
        Some(l) => {
            let tls_addr = tls_listener(&cfg, l).await?;
            let conn = TlsListenerConnection::new(tls_addr, None, tls_config(&cfg)?)
                .await
                .map_err(|e| anyhow::anyhow!("sip: cannot listen on {tls_addr} (TLS): {e}"))?;
            transport.add_transport(conn.into());
            Some(tls_addr)
        }
        None => None,
    };
    let endpoint = EndpointBuilder::new()
        .with_cancel_token(cancel.clone())
        .with_transport_layer(transport)
        .with_user_agent("ccdesk")
        .build();
    let incoming = endpoint.incoming_transactions()?;
    let dialogs = Arc::new(DialogLayer::new(endpoint.inner.clone()));
    let (state_tx, state_rx) = dialogs.new_dialog_state_channel();
    let serve = endpoint.inner.clone();
    tokio::spawn(async move {
        if let Err(e) = serve.serve().await {
            tracing::error!(error = %e, "sip: the endpoint stopped");
        }
    });
    if cfg.sip.allow_any_caller {
        tracing::warn!(%bound, "sip: allow_any_caller: anyone who reaches this address can call the center's numbers");
    }
    let (link, events) = TrunkLink::login(center, conn, !cfg.sip.trunks.is_empty(), node).await?;
    let [first, last] = cfg.sip.rtp_ports;
    let ports = PortPool::new(cfg.media_ip(), first, last);
    let mut trunks = Vec::new();
    for t in &cfg.sip.trunks {
        match tokio::net::lookup_host(&t.address).await {
            Ok(addrs) => trunks.extend(addrs.map(|a| (t.id.clone(), a))),
            Err(e) => {
                tracing::warn!(trunk = %t.id, address = %t.address, error = %e, "sip: cannot resolve a trunk's address")
            }
        }
    }
    let invites = Mutex::new(Bucket::new(f64::from(cfg.sip.max_invites_per_second)));
    let gw = Arc::new(Gateway {
        cfg,
        users,
        link,
        dialogs,
        state_tx,
        ports: ports.clone(),
        trunks,
        calls: Mutex::default(),
        invites,
        local: bound,
        local_tls: tls_addr,
        registrar: Mutex::default(),
        nonces: Mutex::default(),
        phones: Mutex::default(),
        lines: Mutex::default(),
    });
    tokio::spawn(gw.run(incoming, state_rx, events, cancel.clone()));
    match tls_addr {
        Some(tls) => tracing::info!(%bound, %tls, "sip: listening (UDP and TCP; TLS)"),
        None => tracing::info!(%bound, "sip: listening (UDP and TCP)"),
    }
    Ok(Some(Sip {
        addr: bound,
        tls_addr,
        ports,
        cancel,
    }))
}

/// A SIP call and its session.
struct Call {
    session: String,
    dialog: InviteDialog,
    /// The session ended on the center's side: the BYE is ours.
    ended: bool,
    /// An outbound call's RTP socket, until the far end's SDP (early media
    /// or the answer) says where to send.
    pending: Option<(tokio::net::UdpSocket, line::PortLease, sdp::Origin)>,
    /// Answered (an inbound call at once; an outbound one at its 2xx):
    /// until then the outcome is the dialling task's to report.
    answered: bool,
}

/// Calls by session, and by SIP Call-ID (what stays the same for a dialog
/// from the INVITE to its end, early or confirmed).
#[derive(Default)]
struct Calls {
    by_session: HashMap<String, Call>,
    by_call_id: HashMap<String, String>,
}

/// INVITEs allowed a second (a token bucket).
struct Bucket {
    tokens: f64,
    last: Instant,
}

impl Bucket {
    /// Full: a second's worth may come at once.
    fn new(per_second: f64) -> Bucket {
        Bucket {
            tokens: per_second,
            last: Instant::now(),
        }
    }
    fn take(&mut self, per_second: f64) -> bool {
        let now = Instant::now();
        let dt = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + dt * per_second).min(per_second);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

struct Gateway {
    cfg: Arc<ServerConfig>,
    /// The users as they are now: desk phones register as seats.
    users: Arc<crate::server::users::Users>,
    link: TrunkLink,
    dialogs: Arc<DialogLayer>,
    state_tx: DialogStateSender,
    ports: Arc<PortPool>,
    /// Each trunk's resolved addresses: (trunk id, address).
    trunks: Vec<(String, SocketAddr)>,
    calls: Mutex<Calls>,
    invites: Mutex<Bucket>,
    local: SocketAddr,
    /// Where SIP over TLS listens, when it does.
    local_tls: Option<SocketAddr>,
    /// Desk phones' registrations.
    registrar: Mutex<registrar::Registrar>,
    /// The nonces of digest challenges (REGISTER, INVITE).
    nonces: Mutex<digest::Nonces>,
    /// Calls to seats' phones.
    phones: Mutex<phones::Phones>,
    /// The media of the calls that are up (re-INVITEs change it).
    lines: Mutex<reinvite::Lines>,
}

impl Gateway {
    /// The Contact the center gives a dialog: its TLS port for a peer
    /// that reached it over TLS (the peer's requests in the dialog then
    /// come back encrypted), else its UDP/TCP address.
    fn contact(&self, transport: rsipstack::sip::Transport) -> String {
        match (transport, self.local_tls) {
            (rsipstack::sip::Transport::Tls, Some(tls)) => {
                format!("sip:ccdesk@{tls};transport=tls")
            }
            _ => format!("sip:ccdesk@{}", self.local),
        }
    }

    fn calls(&self) -> std::sync::MutexGuard<'_, Calls> {
        self.calls.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn nonces(&self) -> std::sync::MutexGuard<'_, digest::Nonces> {
        self.nonces.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn run(
        self: Arc<Self>,
        mut incoming: TransactionReceiver,
        mut states: DialogStateReceiver,
        mut events: tokio::sync::mpsc::UnboundedReceiver<Event>,
        cancel: CancellationToken,
    ) {
        let mut sweep = tokio::time::interval(std::time::Duration::from_secs(1));
        sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = sweep.tick() => self.sweep_registrations(),
                tx = incoming.recv() => match tx {
                    Some(tx) => self.clone().transaction(tx),
                    None => break,
                },
                st = states.recv() => match st {
                    Some(st) => self.dialog_state(st),
                    None => break,
                },
                ev = events.recv() => match ev {
                    Some(ev) => self.center_event(ev),
                    None => break,
                },
            }
        }
    }

    /// A new transaction from the network.
    fn transaction(self: Arc<Self>, mut tx: Transaction) {
        let in_dialog = self.dialogs.match_dialog(&tx);
        tokio::spawn(async move {
            let method = tx.original.method;
            if let Some(mut dialog) = in_dialog {
                // BYE, re-INVITE, ACK, INFO... within a call: rsipstack's
                // dialog answers and reports its state.
                if let Err(e) = dialog.handle(&mut tx).await {
                    tracing::debug!(%method, error = %e, "sip: an in-dialog request failed");
                }
                return;
            }
            let reply = match method {
                Method::Invite => return self.invite(tx).await,
                Method::Register => return self.register(tx).await,
                Method::Options => StatusCode::OK,
                Method::Ack => return,
                Method::Bye | Method::Cancel => StatusCode::CallTransactionDoesNotExist,
                _ => StatusCode::MethodNotAllowed,
            };
            if let Err(e) = tx.reply(reply).await {
                tracing::debug!(%method, error = %e, "sip: a reply could not be sent");
            }
        });
    }

    /// Where a request came from: the top Via's `received`/`rport` (set by
    /// the transport from the packet's source), else its sent-by.
    fn source(tx: &Transaction) -> Option<SocketAddr> {
        let via = tx.original.via_header().ok()?.typed().ok()?;
        let sent_by: Option<SocketAddr> = via.sent_by().clone().try_into().ok();
        let ip = match via.received() {
            Some(Ok(ip)) => ip,
            _ => sent_by?.ip(),
        };
        let port = match via.rport() {
            Some(Some(p)) => p,
            _ => sent_by.map_or(5060, |s| s.port()),
        };
        Some(SocketAddr::new(ip, port))
    }

    /// The number dialled: the Request-URI's user part (else the To's).
    fn dialled(tx: &Transaction) -> Option<String> {
        if let Some(u) = tx.original.uri.user() {
            return Some(u.to_string());
        }
        let to = tx.original.to_header().ok()?.uri().ok()?;
        to.user().map(str::to_string)
    }

    /// What the PBX or carrier says of the caller in `X-` headers
    /// (`X-Account: 88-1204` → `Account`), as the contact's attributes:
    /// those that fit the protocol's bounds, the first 20.
    fn attributes(tx: &Transaction) -> std::collections::BTreeMap<String, String> {
        use crate::protocol::{MAX_ATTRIBUTES, MAX_ATTRIBUTE_NAME, MAX_ATTRIBUTE_VALUE};
        let mut out = std::collections::BTreeMap::new();
        for h in tx.original.headers.iter() {
            let name = h.name();
            let Some(key) = name
                .get(..2)
                .filter(|p| p.eq_ignore_ascii_case("x-"))
                .and_then(|_| name.get(2..))
            else {
                continue;
            };
            let value = h.value().trim();
            let fits = (1..=MAX_ATTRIBUTE_NAME).contains(&key.chars().count())
                && value.chars().count() <= MAX_ATTRIBUTE_VALUE;
            if fits && out.len() < MAX_ATTRIBUTES {
                out.insert(key.to_string(), value.to_string());
            }
        }
        out
    }

    /// The caller's number: P-Asserted-Identity's user part, else From's.
    fn caller(tx: &Transaction) -> Option<String> {
        if let Some(pai) = tx.original.header_value("P-Asserted-Identity") {
            let inner = pai
                .split_once('<')
                .and_then(|(_, r)| r.split_once('>'))
                .map_or(pai.as_str(), |(u, _)| u)
                .trim()
                .to_string();
            if let Ok(uri) = rsipstack::sip::Uri::try_from(inner.as_str()) {
                if let Some(u) = uri.user() {
                    return Some(u.to_string());
                }
            }
        }
        let from = tx.original.from_header().ok()?.uri().ok()?;
        from.user().map(str::to_string)
    }

    /// An INVITE that starts a call.
    async fn invite(self: Arc<Self>, mut tx: Transaction) {
        let refuse = |code: StatusCode, why: &str| {
            tracing::info!(code = u16::from(code.clone()), why, "sip: INVITE refused");
            code
        };
        let per_second = f64::from(self.cfg.sip.max_invites_per_second);
        let allowed = self
            .invites
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take(per_second);
        if !allowed {
            tracing::warn!("sip: too many INVITEs; answering 503");
            let retry = Header::Other("Retry-After".into(), "1".into());
            let _ = tx
                .reply_with(StatusCode::ServiceUnavailable, vec![retry], None)
                .await;
            return;
        }
        let trunk_id = match self.trunk_of(&tx) {
            Ok(id) => id,
            Err((code, headers, why)) => {
                let code = refuse(code, why);
                let _ = tx.reply_with(code, headers, None).await;
                return;
            }
        };
        let number = Self::dialled(&tx);
        let numbers = &self.cfg.sip.numbers;
        let Some(target) = number
            .as_deref()
            .and_then(|n| numbers.iter().find(|x| x.number == n))
            .or_else(|| numbers.iter().find(|x| x.number == "*"))
            .cloned()
        else {
            let code = refuse(StatusCode::NotFound, "not a configured number");
            let _ = tx.reply(code).await;
            return;
        };
        let media = match sdp::parse(tx.original.body()) {
            Ok(m) => m,
            Err(e) => {
                let code = match e {
                    sdp::SdpError::Malformed(_) => StatusCode::BadRequest,
                    _ => StatusCode::NotAcceptableHere,
                };
                let code = refuse(code, &e.to_string());
                let _ = tx.reply(code).await;
                return;
            }
        };
        let (socket, lease) = match self.ports.bind() {
            Ok(s) => s,
            Err(e) => {
                let code = refuse(StatusCode::ServiceUnavailable, &e.to_string());
                let _ = tx.reply(code).await;
                return;
            }
        };
        let local = SocketAddr::new(self.cfg.media_ip(), lease.port);
        let caller = Self::caller(&tx);
        // The number dialled (a `*` entry takes any).
        let dialled = number.unwrap_or_else(|| target.number.clone());
        let attributes = Self::attributes(&tx);
        let session = match self
            .customer_call(&target, &dialled, caller.clone(), attributes)
            .await
        {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "sip: the center refused the call");
                let _ = tx.reply(StatusCode::ServiceUnavailable).await;
                return;
            }
        };
        let contact = outbound::sip_uri(self.contact(via_transport(&tx))).ok();
        let dialog = match self.dialogs.get_or_create_server_invite(
            &tx,
            self.state_tx.clone(),
            None,
            contact,
        ) {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "sip: no dialog for the INVITE");
                let _ = tx.reply(StatusCode::ServerInternalError).await;
                self.hang_up(&session).await;
                return;
            }
        };
        {
            let mut calls = self.calls();
            calls
                .by_call_id
                .insert(dialog.id().call_id.clone(), session.clone());
            calls.by_session.insert(
                session.clone(),
                Call {
                    session: session.clone(),
                    dialog: dialog.clone(),
                    ended: false,
                    pending: None,
                    answered: true,
                },
            );
        }
        tracing::info!(%session, trunk = %trunk_id, number = %dialled, caller = ?caller, remote = %media.remote, codec = ?media.codec, "sip: call in");
        // The line first, so the caller hears the queue's music from the answer.
        let line = RtpLine::new(socket, lease, &media);
        let origin = sdp::Origin::new();
        self.lines().track(
            &dialog.id().call_id,
            local,
            origin,
            media.clone(),
            line.control(),
        );
        self.link.line(&session, Box::new(line));
        let answer = sdp::answer(local, &media, origin);
        let headers = vec![Header::ContentType("application/sdp".into())];
        if let Err(e) = dialog.accept(Some(headers), Some(answer.into_bytes())) {
            tracing::warn!(%session, error = %e, "sip: the answer could not be sent");
        }
        // Until the ACK (or a CANCEL): rsipstack's transaction handling.
        let mut d = dialog;
        if let Err(e) = d.handle(&mut tx).await {
            tracing::debug!(%session, error = %e, "sip: the INVITE transaction ended with an error");
        }
    }

    /// The trunk an INVITE comes from: the one at its source address, else
    /// the one whose `username` and `password` it answers a digest
    /// challenge with. Else what to refuse it with.
    fn trunk_of(
        &self,
        tx: &Transaction,
    ) -> Result<String, (StatusCode, Vec<Header>, &'static str)> {
        let from = Self::source(tx);
        if let Some((id, _)) = from.and_then(|f| self.trunks.iter().find(|(_, a)| *a == f)) {
            return Ok(id.clone());
        }
        if self.cfg.sip.allow_any_caller {
            return Ok("any caller".into());
        }
        let trunks = &self.cfg.sip.trunks;
        if !trunks.iter().any(|t| t.username.is_some()) {
            tracing::info!(from = ?from, "sip: INVITE from an address that is not a trunk's");
            return Err((
                StatusCode::Forbidden,
                Vec::new(),
                "not from a configured trunk",
            ));
        }
        let password_of = |name: &str| {
            trunks
                .iter()
                .find(|t| t.username.as_deref() == Some(name))
                .and_then(|t| t.password.clone())
        };
        match digest::check(
            &mut self.nonces(),
            &tx.original,
            password_of,
            Instant::now(),
        ) {
            digest::Verdict::Passed(name) => trunks
                .iter()
                .find(|t| t.username.as_deref() == Some(name.as_str()))
                .map(|t| t.id.clone())
                .ok_or((StatusCode::Forbidden, Vec::new(), "unknown username")),
            digest::Verdict::Challenge(headers) => Err((
                StatusCode::Unauthorized,
                headers,
                "not from a trunk's address: challenged",
            )),
            digest::Verdict::Refused(code, why) => {
                tracing::warn!(from = ?from, why, "sip: an INVITE's credentials are refused");
                Err((code, Vec::new(), why))
            }
        }
    }

    async fn customer_call(
        &self,
        target: &SipNumber,
        dialled: &str,
        caller: Option<String>,
        attributes: std::collections::BTreeMap<String, String>,
    ) -> anyhow::Result<String> {
        let params = CustomerCallParams {
            kind: CallType::Phone,
            skill_group_id: target.skill_group.clone(),
            caller_phone_number: caller,
            callee_phone_number: Some(dialled.to_string()),
            caller_location: None,
            remark: None,
            ivr_path: None,
            protected_caller: None,
            protected_callee: None,
            nickname: None,
            avatar: None,
            peer_source: None,
            channel_name: None,
            client_data: None,
            callee: None,
            callee_remark: None,
            user_id: None,
            attributes: (!attributes.is_empty()).then_some(attributes),
            priority: target.priority,
        };
        let data = self
            .link
            .call(Request::CustomerCall(params))
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.message))?;
        data.as_ref()
            .and_then(|d| d.get("sessionId"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| anyhow::anyhow!("Customer.call answered without a sessionId"))
    }

    /// The caller's side ended the call: the session ends (closeBy client).
    async fn hang_up(&self, session: &str) {
        let req = Request::CustomerHangUp(SessionParams {
            session_id: session.to_string(),
        });
        if let Err(e) = self.link.call(req).await {
            tracing::debug!(%session, error = %e.message, "sip: Customer.hangUp");
        }
    }

    /// rsipstack's news of a dialog.
    fn dialog_state(self: &Arc<Self>, st: DialogState) {
        if self.in_dialog(&st) {
            return;
        }
        let (id, reason) = match st {
            DialogState::Early(id, resp) => return self.early_media(&id, &resp),
            DialogState::Terminated(id, reason) => (id, reason),
            _ => return,
        };
        self.lines().forget(&id.call_id);
        if self.phone_dialog_ended(&id) {
            self.dialogs.remove_dialog(&id);
            return;
        }
        let call = {
            let mut calls = self.calls();
            // The session's call, if it is still this dialog's: a session
            // called back after its caller hung up has a new call by now.
            let call = calls
                .by_call_id
                .get(&id.call_id)
                .and_then(|s| calls.by_session.get(s));
            if call.is_some_and(|c| c.dialog.id().call_id != id.call_id) {
                calls.by_call_id.remove(&id.call_id);
                self.dialogs.remove_dialog(&id);
                return;
            }
            let answered = call.is_some_and(|c| c.answered);
            if !answered {
                // An outbound call that never connected: its dialling task
                // reports how it ended.
                self.dialogs.remove_dialog(&id);
                return;
            }
            let session = calls.by_call_id.remove(&id.call_id);
            session.and_then(|s| calls.by_session.remove(&s))
        };
        self.dialogs.remove_dialog(&id);
        let Some(call) = call else { return };
        tracing::info!(session = %call.session, ?reason, "sip: call over");
        if call.ended {
            return;
        }
        // The caller hung up (BYE, CANCEL) or the call timed out.
        let gw = self.clone();
        let reason = match reason {
            TerminatedReason::UacCancel => "cancel",
            TerminatedReason::UacBye => "bye",
            TerminatedReason::Timeout => "timeout",
            _ => "ended",
        };
        tracing::debug!(session = %call.session, reason, "sip: caller's side ended");
        tokio::spawn(async move { gw.hang_up(&call.session).await });
    }

    /// The center's events for this trunk.
    fn center_event(self: &Arc<Self>, ev: Event) {
        if let Event::Dial {
            session_id,
            phone_number,
            caller_phone_number,
            uui,
        } = ev
        {
            return self.dial_event(session_id, phone_number, caller_phone_number, uui);
        }
        match ev {
            Event::RingPhone {
                session_id,
                user_id,
                server_type,
                phone_number,
                caller_phone_number,
            } => {
                return self.ring_phone(
                    session_id,
                    user_id,
                    &server_type,
                    phone_number,
                    caller_phone_number,
                )
            }
            Event::PhoneHangUp {
                session_id,
                user_id,
            } => return self.hang_up_phone(&session_id, &user_id),
            _ => {}
        }
        if let Event::SessionEnded(e) = ev {
            let dialog = {
                let mut calls = self.calls();
                calls.by_session.get_mut(&e.session_id).map(|c| {
                    c.ended = true;
                    c.dialog.clone()
                })
            };
            if let Some(d) = dialog {
                tokio::spawn(async move {
                    // A BYE once the call is up; a call not answered yet is
                    // refused instead.
                    let r = match d.state() {
                        DialogState::Confirmed(..) | DialogState::WaitAck(..) => d.bye().await,
                        // Ours, still ringing at the far end: CANCEL.
                        _ if d.role() == rsipstack::transaction::key::TransactionRole::Client => {
                            d.hangup().await
                        }
                        _ => d.reject(Some(StatusCode::TemporarilyUnavailable), None),
                    };
                    if let Err(e) = r {
                        tracing::debug!(error = %e, "sip: ending a call");
                    }
                });
            }
        }
    }
}

/// The transport a request came over, from its top Via (UDP when it says
/// nothing usable).
fn via_transport(tx: &Transaction) -> rsipstack::sip::Transport {
    tx.original
        .via_header()
        .ok()
        .and_then(|v| v.typed().ok())
        .map_or(rsipstack::sip::Transport::Udp, |v| v.transport)
}
