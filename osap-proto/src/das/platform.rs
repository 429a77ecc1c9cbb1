//! The DAS side of one device connection: check the registration (Figure
//! 5), answer the heartbeat (Figure 6), notice a device gone silent.

use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use iot_sansio::{End, Input, Instant, Machine, Outbox, Outgoing};
use rand_core::CryptoRngCore;

use super::common::{PacketSession, SessionEnd, SessionFault, earliest, handle_input, kind, send};
use super::keys::{Issued, SessionKeys};
use super::live::{Live, SessionError};
use super::register::{LastWill, Registration};
use crate::business::{Body, BusinessChannel, BusinessError, BusinessMessage, Direction};
use crate::decoder::{DEFAULT_MAX_FRAME_LEN, FrameDecoder};
use crate::mqtt::{ConnAck, Connect, ConnectReturnCode, Delivery, Packet};
use crate::session::Out;

/// How a DAS treats device connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DasSessionConfig {
    /// How long a new connection may stay silent before its CONNECT
    /// (default 10 s).
    pub connect_timeout: Duration,
    /// The longest keep-alive accepted, in seconds (default 300); a longer
    /// one is refused with return code 5 (not authorized).
    pub max_keep_alive: u16,
    /// Whether a keep-alive of 0 (no heartbeat) is accepted (default
    /// `false`: a device must keep its heartbeat, section 7).
    pub allow_no_keep_alive: bool,
    /// How long an attribute read or set waits for its answer (default
    /// 10 s); an operation call waits its own `timeout_ms`.
    pub request_timeout: Duration,
    /// The longest frame accepted (default 64 KiB).
    pub max_frame_len: usize,
}

impl Default for DasSessionConfig {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
            max_keep_alive: 300,
            allow_no_keep_alive: false,
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
        }
    }
}

/// What the DAS side of a connection reports.
#[derive(Debug, Clone, PartialEq)]
pub enum DasSessionEvent {
    /// The device registered (F1, F2).
    Registered {
        /// Its devid.
        devid: String,
        /// Its heartbeat interval in seconds.
        keep_alive: u16,
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
    /// The device reports an event (acknowledged with PUBACK). An event
    /// the device sent again after a lost connection may come twice
    /// (QoS 1 is at least once).
    Event(BusinessMessage),
    /// A request of this side got no answer in time.
    RequestTimedOut {
        /// The request.
        id: u64,
    },
    /// A PUBLISH from the device was refused: replayed, reordered,
    /// tampered, or not a business message for this device.
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

impl From<SessionEnd> for DasSessionEvent {
    fn from(end: SessionEnd) -> Self {
        Self::Ended(end)
    }
}

#[derive(Debug)]
enum State<I, R> {
    AwaitConnect {
        deadline: I,
        rng: R,
    },
    Live {
        /// The device is lost if nothing comes by then.
        silent_until: I,
        /// 1.5 keep-alive intervals.
        grace: Duration,
        will: Option<LastWill>,
        live: Live<I, R>,
    },
    Done,
}

/// The DAS side of one device connection (sections 6 and 7). It accepts
/// only a devid the LBS issued (through [`SessionKeys`]), proved with its
/// sessionkey, with a counter greater than any accepted before; every
/// other CONNECT gets the CONNACK refusal that fits and the session ends.
#[derive(Debug)]
pub struct DasSession<I, K, R> {
    decoder: FrameDecoder,
    core: Core<I, K, R>,
    out: Out<DasSessionEvent>,
}

/// The session's state, beside its decoder and outbox.
#[derive(Debug)]
struct Core<I, K, R> {
    keys: K,
    config: DasSessionConfig,
    state: State<I, R>,
}

impl<I: Instant, K: SessionKeys, R: CryptoRngCore> DasSession<I, K, R> {
    /// The session of a connection accepted at `now`; `rng` makes the
    /// nonces of sealed messages.
    pub fn new(now: I, config: DasSessionConfig, keys: K, rng: R) -> Self {
        Self {
            decoder: FrameDecoder::new(config.max_frame_len),
            core: Core {
                keys,
                config,
                state: State::AwaitConnect {
                    deadline: now + config.connect_timeout,
                    rng,
                },
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

    /// The sessionkey store, to change.
    pub fn keys_mut(&mut self) -> &mut K {
        &mut self.core.keys
    }
}

impl<I: Instant, K: SessionKeys, R: CryptoRngCore> Core<I, K, R> {
    /// Answers F1 with F2: the return code for this CONNECT.
    fn check(
        &mut self,
        connect: &Connect<'_>,
    ) -> Result<(Registration, Issued), ConnectReturnCode> {
        let (registration, proof) = Registration::from_connect(connect)
            .map_err(|_| ConnectReturnCode::BadUsernameOrPassword)?;
        let issued = self
            .keys
            .session(&registration.devid)
            .ok_or(ConnectReturnCode::IdentifierRejected)?;
        let fresh = issued
            .last_registration
            .is_none_or(|last| registration.counter > last);
        if !registration.verify(&issued.key, &proof) || !fresh {
            return Err(ConnectReturnCode::BadUsernameOrPassword);
        }
        let keep_alive = registration.keep_alive;
        if keep_alive > self.config.max_keep_alive
            || (keep_alive == 0 && !self.config.allow_no_keep_alive)
        {
            return Err(ConnectReturnCode::NotAuthorized);
        }
        if !self.keys.accept(&registration.devid, registration.counter) {
            // Another connection took this counter or a later one first.
            return Err(ConnectReturnCode::BadUsernameOrPassword);
        }
        Ok((registration, issued))
    }
}

impl<I, K, R> PacketSession<DasSessionEvent> for Core<I, K, R>
where
    I: Instant,
    K: SessionKeys,
    R: CryptoRngCore,
{
    type Instant = I;
    fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }
    fn packet(
        &mut self,
        out: &mut Out<DasSessionEvent>,
        now: I,
        packet: &Packet<'_>,
    ) -> Result<(), SessionFault> {
        match (&mut self.state, packet) {
            (State::AwaitConnect { .. }, Packet::Connect(connect)) => {
                let checked = self.check(connect);
                let State::AwaitConnect { rng, .. } =
                    core::mem::replace(&mut self.state, State::Done)
                else {
                    return Ok(());
                };
                let code = match &checked {
                    Ok(_) => ConnectReturnCode::Accepted,
                    Err(code) => *code,
                };
                send(
                    out,
                    &Packet::ConnAck(ConnAck {
                        session_present: false,
                        code,
                    }),
                );
                let (registration, issued) = match checked {
                    Ok(accepted) => accepted,
                    Err(code) => {
                        self.end(out, End::Refused(code));
                        return Ok(());
                    }
                };
                // MQTT 3.1.1 section 3.1.2.10: one and a half times the
                // keep-alive; none without a keep-alive.
                let grace = Duration::from_millis(u64::from(registration.keep_alive) * 1500);
                let channel = BusinessChannel::new(
                    issued.suite,
                    issued.key,
                    registration.devid.clone(),
                    registration.counter,
                    Direction::Down,
                );
                self.state = State::Live {
                    silent_until: now + grace,
                    grace,
                    will: registration.will,
                    live: Live::new(channel, rng),
                };
                out.event(DasSessionEvent::Registered {
                    devid: registration.devid,
                    keep_alive: registration.keep_alive,
                });
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
                let event = match live.receive(out, publish) {
                    Err(e) => DasSessionEvent::Rejected(e),
                    Ok(message) => match message.body {
                        Body::AttrValues { id, .. } | Body::OpResult { id, .. }
                            if live.answered(id) =>
                        {
                            DasSessionEvent::Answer(message)
                        }
                        Body::AttrValues { .. } | Body::OpResult { .. } => {
                            DasSessionEvent::Late(message)
                        }
                        Body::AttrReport { .. } => DasSessionEvent::Report(message),
                        Body::Event { .. } => DasSessionEvent::Event(message),
                        _ => DasSessionEvent::Request(message),
                    },
                };
                out.event(event);
                Ok(())
            }
            (_, other) => Err(SessionFault::Unexpected(kind(other))),
        }
    }

    fn end(&mut self, out: &mut Out<DasSessionEvent>, end: SessionEnd) {
        if let State::Live {
            will: Some(will), ..
        } = core::mem::replace(&mut self.state, State::Done)
            && !matches!(end, End::PeerClosed | End::Closed)
        {
            out.event(DasSessionEvent::Will(will));
        }
        out.end(end);
    }
}

impl<I: Instant, K: SessionKeys, R: CryptoRngCore> Machine for DasSession<I, K, R> {
    type Instant = I;
    type Input = [u8];
    type Transmit = Vec<u8>;
    type Event = DasSessionEvent;

    fn handle_input(&mut self, now: I, input: Input<'_, [u8]>) {
        // Any byte from the device shows it alive.
        if let (
            State::Live {
                silent_until,
                grace,
                ..
            },
            Input::Data([_, ..]),
        ) = (&mut self.core.state, input)
        {
            *silent_until = now + *grace;
        }
        handle_input(&mut self.decoder, &mut self.core, &mut self.out, now, input);
    }

    fn handle_timeout(&mut self, now: I) {
        match &mut self.core.state {
            State::AwaitConnect { deadline, .. } if now >= *deadline => {
                self.core.end(&mut self.out, End::TimedOut);
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

    fn outgoing(&mut self) -> Outgoing<'_, Vec<u8>, DasSessionEvent> {
        self.out.outgoing()
    }

    fn recycle(&mut self, frame: Vec<u8>) {
        self.out.recycle(frame);
    }
}
