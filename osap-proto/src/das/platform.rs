//! The DAS side of one device connection: check the registration (Figure
//! 5), answer the heartbeat (Figure 6), notice a device gone silent.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use iot_sansio::store::{
    AnswerError, RequestId, Store, StoreOp, StoreRequest, Versioned, check_answer,
};
use iot_sansio::{End, Input, Instant, Machine, Outbox, Outgoing, WriteToken};
use rand_core::CryptoRngCore;

use super::common::{PacketSession, SessionEnd, SessionFault, earliest, handle_input, kind, send};
use super::kinds::DasSessionConfig;
use super::live::{Live, SessionError};
use super::register::{LastWill, Registration};
use super::registrar::{Checking, Next};
use crate::business::{Body, BusinessChannel, BusinessError, BusinessMessage, Direction};
use crate::decoder::FrameDecoder;
use crate::mqtt::{ConnAck, ConnectReturnCode, Delivery, Packet};
use crate::records::KeyRequest;
use crate::records::{KeyAnswer, KeyOp, KeyRecord};
use crate::session::Out;

/// What the DAS side of a connection reports.
#[derive(Debug, Clone, PartialEq)]
pub enum DasSessionEvent<I> {
    /// The session asks its store (one that does not answer at once, such
    /// as [`Deferred`](iot_sansio::store::Deferred)) about the device's
    /// [`KeyRecord`]: answer with
    /// [`DasSession::provide`]. A write that
    /// comes with or just before [`DasSessionEvent::Ended`] clears the
    /// node of a session that ended and needs no answer.
    /// (Boxed: it is rare, and the events of a live session stay small.)
    Store(Box<KeyRequest<I>>),
    /// The device registered (F1, F2): its counter is stored.
    Registered {
        /// Its devid.
        devid: String,
        /// Its heartbeat interval in seconds.
        keep_alive: u16,
        /// The epoch of the sessionkey it proved.
        epoch: u64,
    },
    /// The device calls an operation: answer with [`DasSession::send`]
    /// (`op-result`, same id).
    Request(BusinessMessage),
    /// The answer to an attribute read or set or an operation call this
    /// side sent (`attr-values`, `op-result`).
    Answer(BusinessMessage),
    /// An answer that came after its request timed out, or to none.
    Late(BusinessMessage),
    /// The device reports attributes that changed.
    Report(BusinessMessage),
    /// The device reports an event (section 2.1.4): store it (keep one
    /// copy per devid and `Body::Event::id`: an event the device sent
    /// again after a lost connection comes again, with the same id), then
    /// confirm with [`Machine::persisted`](iot_sansio::Machine::persisted)
    /// and `write`. Only then does its PUBACK go, and the device forget it.
    Event {
        /// The event, its `id` the device's number for it.
        message: BusinessMessage,
        /// The write to confirm.
        write: WriteToken,
    },
    /// A request of this side got no answer in time.
    RequestTimedOut {
        /// The request.
        id: u64,
    },
    /// A PUBLISH from the device was refused, and not acknowledged (the
    /// device keeps it): replayed, reordered, tampered, or not a business
    /// message for this device.
    Rejected(BusinessError),
    /// The device vanished without a DISCONNECT and left a will: publish
    /// it (MQTT 3.1.1 section 3.1.2.5). Comes just before `Ended`.
    Will(LastWill),
    /// The session ended, once; close the connection. [`End::PeerClosed`]
    /// after a DISCONNECT (F3) or when the connection closed;
    /// [`End::Refused`] with the CONNACK code sent; [`End::TimedOut`] when
    /// no CONNECT came or the device fell silent for 1.5 keep-alive
    /// intervals; [`End::PeerFault`].
    Ended(SessionEnd),
}

impl<I> From<SessionEnd> for DasSessionEvent<I> {
    fn from(end: SessionEnd) -> Self {
        Self::Ended(end)
    }
}

/// F2: the CONNACK with `code` (a session is never present: clean
/// sessions only, PROFILE.md section 9).
fn connack<E>(out: &mut Out<E>, code: ConnectReturnCode) {
    send(
        out,
        &Packet::ConnAck(ConnAck {
            session_present: false,
            code,
        }),
    );
}

#[derive(Debug)]
enum State<I, R> {
    AwaitConnect {
        deadline: I,
        rng: R,
    },
    /// A CONNECT came; the session asks its store about the device.
    Checking(Checking<I, R>),
    Live {
        /// The device is lost if nothing comes by then.
        silent_until: I,
        /// 1.5 keep-alive intervals.
        grace: Duration,
        will: Option<LastWill>,
        /// The devid and its record as this session wrote it with its
        /// node, to clear the node at the end.
        node_record: Option<(String, Versioned<KeyRecord<I>>)>,
        live: Live<I, R>,
    },
    Done,
}

/// The DAS side of one device connection (sections 6 and 7). It accepts
/// only a devid the LBS issued, proved with its sessionkey (not revoked,
/// not expired), with a counter greater than any accepted under that
/// sessionkey; the counter is stored (compare-and-set on the record that
/// verified the proof) before the CONNACK goes out. Every other CONNECT
/// gets the CONNACK refusal that fits and the session ends; a store that
/// cannot answer gets CONNACK 3 (server unavailable), never a refusal of
/// the device.
///
/// The device's [`KeyRecord`] comes from a [`Store`]: a
/// [`KeyTable`](super::KeyTable) answers inside the call;
/// [`Deferred`](iot_sansio::store::Deferred) makes every read and write a
/// [`DasSessionEvent::Store`] request that the runtime answers with
/// [`DasSession::provide`].
#[derive(Debug)]
pub struct DasSession<I, S, R> {
    decoder: FrameDecoder,
    core: Core<I, S, R>,
    out: Out<DasSessionEvent<I>>,
}

/// The session's state, beside its decoder and outbox.
#[derive(Debug)]
struct Core<I, S, R> {
    store: S,
    config: DasSessionConfig,
    state: State<I, R>,
    /// The id of the last request asked.
    last_request: RequestId,
}

impl<I, S, R> DasSession<I, S, R>
where
    I: Instant,
    S: Store<String, KeyRecord<I>>,
    R: CryptoRngCore,
{
    /// The session of a connection accepted at `now`, over `store`; `rng`
    /// makes the nonces of sealed messages.
    pub fn new(now: I, config: DasSessionConfig, store: S, rng: R) -> Self {
        Self {
            decoder: FrameDecoder::new(config.max_frame_len),
            core: Core {
                store,
                config,
                state: State::AwaitConnect {
                    deadline: now + config.connect_timeout,
                    rng,
                },
                last_request: RequestId::default(),
            },
            out: Outbox::new(),
        }
    }

    /// Whether the device is registered and the session live.
    #[must_use]
    pub fn is_registered(&self) -> bool {
        matches!(self.core.state, State::Live { .. })
    }

    /// Sends a business message to the device at QoS 0: an attribute read
    /// or set (its answer due within [`DasSessionConfig::request_timeout`]), an
    /// operation call (due within its `timeout_ms`), or the answer to the
    /// device's call.
    ///
    /// # Errors
    ///
    /// [`SessionError::NotRegistered`], [`SessionError::DuplicateRequest`]
    /// for a request id still waiting, [`SessionError::Business`] for a
    /// message that does not go down or whose area is not a topic level.
    pub fn send(&mut self, now: I, message: &BusinessMessage) -> Result<(), SessionError> {
        let State::Live { live, .. } = &mut self.core.state else {
            return Err(SessionError::NotRegistered);
        };
        message.check(Direction::Down)?;
        match message.body {
            Body::AttrGet { id, .. } | Body::AttrSet { id, .. } => {
                live.expect(id, now + self.core.config.request_timeout)?;
            }
            Body::OpCall { id, timeout_ms, .. } => {
                live.expect(id, now + Duration::from_millis(timeout_ms.into()))?;
            }
            _ => {}
        }
        live.publish(&mut self.out, message, Delivery::AtMostOnce)?;
        Ok(())
    }

    /// Hands the session its store's answer to the request `id` of a
    /// [`DasSessionEvent::Store`] event.
    ///
    /// # Errors
    ///
    /// [`AnswerError::NotAsked`] when the session does not wait for `id`
    /// (answered already, timed out, ended; nothing changes),
    /// [`AnswerError::Mismatched`] for an answer that does not fit the
    /// request (a record found, to a write).
    pub fn provide(
        &mut self,
        now: I,
        id: RequestId,
        answer: KeyAnswer<I>,
    ) -> Result<(), AnswerError> {
        let State::Checking(checking) = &mut self.core.state else {
            return Err(AnswerError::NotAsked(id));
        };
        let awaited = checking.waiting.as_ref().map(|(asked, _, op)| (*asked, op));
        check_answer(awaited, id, &answer)?;
        let Some((_, _, op)) = checking.waiting.take() else {
            return Err(AnswerError::NotAsked(id));
        };
        self.core.answered(&mut self.out, now, op, answer);
        if self.is_registered() {
            // What the device sent while the store was asked.
            let held = self.decoder.take_held();
            if !held.is_empty() {
                self.handle_input(now, Input::Data(&held));
            }
        }
        Ok(())
    }

    /// The store, to change.
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.core.store
    }

    /// Keeps bytes that came while the store is asked (MQTT lets a client
    /// send before its CONNACK), to read once the registration is
    /// accepted; more than a frame of them is a fault.
    fn hold(&mut self, data: &[u8]) {
        if let Err(e) = self.decoder.hold(data) {
            self.core.end(&mut self.out, End::PeerFault(e.into()));
        }
    }
}

impl<I, S, R> Core<I, S, R>
where
    I: Instant,
    S: Store<String, KeyRecord<I>>,
    R: CryptoRngCore,
{
    /// Asks the store.
    fn ask(&mut self, out: &mut Out<DasSessionEvent<I>>, now: I, op: KeyOp<I>) {
        self.go(out, now, Next::Ask(op));
    }

    /// Goes on from the store's answer to `op` (which it fits).
    fn answered(
        &mut self,
        out: &mut Out<DasSessionEvent<I>>,
        now: I,
        op: KeyOp<I>,
        answer: KeyAnswer<I>,
    ) {
        let next = self.next(now, op, answer);
        self.go(out, now, next);
    }

    /// Takes `next` and the steps after it: a store that answers at once
    /// is followed through its answers (at most `2 * (max_conflicts + 1)`
    /// rounds); otherwise the request leaves as an event.
    fn go(&mut self, out: &mut Out<DasSessionEvent<I>>, now: I, mut next: Next<I>) {
        loop {
            match next {
                Next::Refuse(code) => return self.refuse(out, code),
                Next::Accept(record) => return self.accept(out, now, record),
                Next::Ask(op) => match self.store.answer_now(&op) {
                    Some(answer) => next = self.next(now, op, answer),
                    None => return self.request(out, now, op),
                },
            }
        }
    }

    /// Asks the runtime for `op` with an event, and waits for the answer.
    fn request(&mut self, out: &mut Out<DasSessionEvent<I>>, now: I, op: KeyOp<I>) {
        let State::Checking(checking) = &mut self.state else {
            return;
        };
        self.last_request = self.last_request.next();
        let id = self.last_request;
        checking.waiting = Some((id, now + self.config.store_timeout, op.clone()));
        out.event(DasSessionEvent::Store(Box::new(StoreRequest { id, op })));
    }

    /// The step after the store's answer to `op`.
    fn next(&mut self, now: I, op: KeyOp<I>, answer: KeyAnswer<I>) -> Next<I> {
        match &mut self.state {
            State::Checking(checking) => checking.next(&self.config, now, op, answer),
            _ => Next::Refuse(ConnectReturnCode::ServerUnavailable),
        }
    }

    fn refuse(&mut self, out: &mut Out<DasSessionEvent<I>>, code: ConnectReturnCode) {
        connack(out, code);
        self.end(out, End::Refused(code));
    }

    /// F2: the counter is stored; the registration is accepted.
    fn accept(
        &mut self,
        out: &mut Out<DasSessionEvent<I>>,
        now: I,
        record: Versioned<KeyRecord<I>>,
    ) {
        let State::Checking(Checking {
            rng, registration, ..
        }) = core::mem::replace(&mut self.state, State::Done)
        else {
            return;
        };
        connack(out, ConnectReturnCode::Accepted);
        // MQTT 3.1.1 section 3.1.2.10: one and a half times the keep-alive;
        // none without a keep-alive.
        let grace = Duration::from_millis(u64::from(registration.keep_alive) * 1500);
        let channel = BusinessChannel::new(
            record.record.suite,
            record.record.key.clone(),
            registration.devid.clone(),
            registration.counter,
            Direction::Down,
        );
        out.event(DasSessionEvent::Registered {
            devid: registration.devid.clone(),
            keep_alive: registration.keep_alive,
            epoch: record.record.epoch,
        });
        self.state = State::Live {
            silent_until: now + grace,
            grace,
            will: registration.will,
            node_record: record
                .record
                .node
                .is_some()
                .then_some((registration.devid, record)),
            live: Live::new(channel, rng),
        };
    }
}

impl<I, S, R> PacketSession<DasSessionEvent<I>> for Core<I, S, R>
where
    I: Instant,
    S: Store<String, KeyRecord<I>>,
    R: CryptoRngCore,
{
    type Instant = I;
    fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }
    fn is_paused(&self) -> bool {
        matches!(self.state, State::Checking(_))
    }
    fn packet(
        &mut self,
        out: &mut Out<DasSessionEvent<I>>,
        now: I,
        packet: &Packet<'_>,
    ) -> Result<(), SessionFault> {
        match (&mut self.state, packet) {
            (State::AwaitConnect { .. }, Packet::Connect(connect)) => {
                let State::AwaitConnect { rng, .. } =
                    core::mem::replace(&mut self.state, State::Done)
                else {
                    return Ok(());
                };
                let Ok((registration, proof)) = Registration::from_connect(connect) else {
                    self.refuse(out, ConnectReturnCode::BadUsernameOrPassword);
                    return Ok(());
                };
                let devid = registration.devid.clone();
                self.state = State::Checking(Checking {
                    rng,
                    registration,
                    proof,
                    waiting: None,
                    conflicts: 0,
                });
                self.ask(out, now, StoreOp::Get(devid));
                Ok(())
            }
            (State::Live { .. }, Packet::PingReq) => {
                send(out, &Packet::PingResp);
                Ok(())
            }
            (State::Live { .. }, Packet::Disconnect) => {
                // F3: a clean leave; the will is discarded.
                self.end(out, End::PeerClosed);
                Ok(())
            }
            (State::Live { live, .. }, Packet::Publish(publish)) => {
                let message = match live.receive(publish) {
                    Ok(message) => message,
                    Err(e) => {
                        out.event(DasSessionEvent::Rejected(e));
                        return Ok(());
                    }
                };
                let event = match message.body {
                    Body::AttrValues { id, .. } | Body::OpResult { id, .. }
                        if live.answered(id) =>
                    {
                        DasSessionEvent::Answer(message)
                    }
                    Body::AttrValues { .. } | Body::OpResult { .. } => {
                        DasSessionEvent::Late(message)
                    }
                    Body::AttrReport { .. } => DasSessionEvent::Report(message),
                    Body::Event { .. } => {
                        // The PUBACK tells the device it may forget the
                        // event: it waits until the runtime has stored it.
                        let write = out.hold();
                        live.acknowledge(out, publish);
                        out.event(DasSessionEvent::Event { message, write });
                        return Ok(());
                    }
                    _ => DasSessionEvent::Request(message),
                };
                live.acknowledge(out, publish);
                out.event(event);
                Ok(())
            }
            (_, other) => Err(SessionFault::Unexpected(kind(other))),
        }
    }

    fn end(&mut self, out: &mut Out<DasSessionEvent<I>>, end: SessionEnd) {
        if let State::Live {
            will, node_record, ..
        } = core::mem::replace(&mut self.state, State::Done)
        {
            if let Some(will) = will
                && !matches!(end, End::PeerClosed | End::Closed)
            {
                out.event(DasSessionEvent::Will(will));
            }
            if let Some((devid, record)) = node_record {
                // The device's session no longer lives here, unless another
                // has registered since (then the version moved on).
                let op = StoreOp::Put {
                    key: devid,
                    expected: record.version,
                    record: KeyRecord {
                        node: None,
                        ..record.record
                    },
                };
                if self.store.answer_now(&op).is_none() {
                    self.last_request = self.last_request.next();
                    out.event(DasSessionEvent::Store(Box::new(StoreRequest {
                        id: self.last_request,
                        op,
                    })));
                }
            }
        }
        out.end(end);
    }
}

impl<I, S, R> Machine for DasSession<I, S, R>
where
    I: Instant,
    S: Store<String, KeyRecord<I>>,
    R: CryptoRngCore,
{
    type Instant = I;
    type Input = [u8];
    type Transmit = Vec<u8>;
    type Event = DasSessionEvent<I>;

    fn handle_input(&mut self, now: I, input: Input<'_, [u8]>) {
        match (&mut self.core.state, input) {
            (State::Checking(_), Input::Data(data)) => {
                self.hold(data);
                return;
            }
            // Any byte from the device shows it alive.
            (
                State::Live {
                    silent_until,
                    grace,
                    ..
                },
                Input::Data([_, ..]),
            ) => *silent_until = now + *grace,
            _ => {}
        }
        let rest = handle_input(&mut self.decoder, &mut self.core, &mut self.out, now, input);
        if !rest.is_empty() {
            self.hold(rest);
        }
    }

    fn handle_timeout(&mut self, now: I) {
        match &mut self.core.state {
            State::AwaitConnect { deadline, .. } if now >= *deadline => {
                self.core.end(&mut self.out, End::TimedOut);
            }
            State::Checking(Checking {
                waiting: Some((_, deadline, _)),
                ..
            }) if now >= *deadline => {
                self.core
                    .refuse(&mut self.out, ConnectReturnCode::ServerUnavailable);
            }
            State::Live {
                silent_until,
                grace,
                ..
            } if !grace.is_zero() && now >= *silent_until => {
                self.core.end(&mut self.out, End::TimedOut);
            }
            State::Live { live, .. } => {
                for id in live.expired(now) {
                    self.out.event(DasSessionEvent::RequestTimedOut { id });
                }
            }
            _ => {}
        }
    }

    fn poll_timeout(&self) -> Option<I> {
        match &self.core.state {
            State::AwaitConnect { deadline, .. } => Some(*deadline),
            State::Checking(checking) => {
                checking.waiting.as_ref().map(|(_, deadline, _)| *deadline)
            }
            State::Live {
                silent_until,
                grace,
                live,
                ..
            } => {
                let silence = (!grace.is_zero()).then_some(*silent_until);
                earliest(silence, live.next_deadline())
            }
            State::Done => None,
        }
    }

    fn outgoing(&mut self) -> Outgoing<'_, Vec<u8>, DasSessionEvent<I>> {
        self.out.outgoing()
    }

    fn recycle(&mut self, frame: Vec<u8>) {
        self.out.recycle(frame);
    }
}
