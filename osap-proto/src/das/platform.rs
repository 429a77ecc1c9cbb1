//! The DAS side of one device connection: check the registration (Figure
//! 5), answer the heartbeat (Figure 6), notice a device gone silent.

use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use iot_sansio::{End, Input, Instant, Machine, Outbox};

use super::keys::SessionKeys;
use super::register::{LastWill, Registration};
use super::{SessionEnd, SessionFault, feed_packets, kind, send};
use crate::decoder::{DEFAULT_MAX_FRAME_LEN, FrameDecoder};
use crate::mqtt::{ConnAck, Connect, ConnectReturnCode, Packet};

/// How a DAS treats device connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DasConfig {
    /// How long a new connection may stay silent before its CONNECT
    /// (default 10 s).
    pub connect_timeout: Duration,
    /// The longest keep-alive accepted, in seconds (default 300); a longer
    /// one is refused with return code 5 (not authorized).
    pub max_keep_alive: u16,
    /// Whether a keep-alive of 0 (no heartbeat) is accepted (default
    /// `false`: a device must keep its heartbeat, section 7).
    pub allow_no_keep_alive: bool,
    /// The longest frame accepted (default 64 KiB).
    pub max_frame_len: usize,
}

impl Default for DasConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            max_keep_alive: 300,
            allow_no_keep_alive: false,
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
        }
    }
}

/// What the DAS side of a connection reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DasEvent {
    /// The device registered (F1, F2).
    Registered {
        /// Its devid.
        devid: String,
        /// Its heartbeat interval in seconds.
        keep_alive: u16,
    },
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

impl From<SessionEnd> for DasEvent {
    fn from(end: SessionEnd) -> Self {
        Self::Ended(end)
    }
}

#[derive(Debug, Clone)]
enum State<I> {
    AwaitConnect {
        deadline: I,
    },
    Live {
        /// The device is lost if nothing comes by then.
        silent_until: I,
        /// 1.5 keep-alive intervals.
        grace: Duration,
        will: Option<LastWill>,
    },
    Done,
}

/// The DAS side of one device connection (sections 6 and 7). It accepts
/// only a devid the LBS issued (through [`SessionKeys`]), proved with its
/// sessionkey, with a counter greater than any accepted before; every
/// other CONNECT gets the CONNACK refusal that fits and the session ends.
#[derive(Debug)]
pub struct DasSession<I, K> {
    keys: K,
    config: DasConfig,
    decoder: FrameDecoder,
    state: State<I>,
    out: Outbox<Vec<u8>, DasEvent>,
}

impl<I: Instant, K: SessionKeys> DasSession<I, K> {
    /// The session of a connection accepted at `now`.
    pub fn new(now: I, config: DasConfig, keys: K) -> Self {
        Self {
            keys,
            config,
            decoder: FrameDecoder::new(config.max_frame_len),
            state: State::AwaitConnect {
                deadline: now + config.connect_timeout,
            },
            out: Outbox::new(),
        }
    }

    /// The sessionkey store, to change.
    pub fn keys_mut(&mut self) -> &mut K {
        &mut self.keys
    }

    fn end(&mut self, end: SessionEnd) {
        if let State::Live {
            will: Some(will), ..
        } = core::mem::replace(&mut self.state, State::Done)
            && !matches!(end, End::PeerClosed | End::Closed)
        {
            self.out.event(DasEvent::Will(will));
        }
        self.out.end(end);
    }

    /// Answers F1 with F2: the return code for this CONNECT.
    fn check(&mut self, connect: &Connect<'_>) -> Result<Registration, ConnectReturnCode> {
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
        Ok(registration)
    }

    fn packet(&mut self, now: I, packet: &Packet<'_>) -> Result<(), SessionFault> {
        match (&self.state, packet) {
            (State::AwaitConnect { .. }, Packet::Connect(connect)) => {
                match self.check(connect) {
                    Ok(registration) => {
                        send(
                            &mut self.out,
                            &Packet::ConnAck(ConnAck {
                                session_present: false,
                                code: ConnectReturnCode::Accepted,
                            }),
                        );
                        // MQTT 3.1.1 section 3.1.2.10: one and a half times
                        // the keep-alive; none without a keep-alive.
                        let grace =
                            Duration::from_millis(u64::from(registration.keep_alive) * 1500);
                        self.state = State::Live {
                            silent_until: now + grace,
                            grace,
                            will: registration.will,
                        };
                        self.out.event(DasEvent::Registered {
                            devid: registration.devid,
                            keep_alive: registration.keep_alive,
                        });
                    }
                    Err(code) => {
                        send(
                            &mut self.out,
                            &Packet::ConnAck(ConnAck {
                                session_present: false,
                                code,
                            }),
                        );
                        self.end(End::Refused(code));
                    }
                }
                Ok(())
            }
            (State::Live { .. }, Packet::PingReq) => {
                send(&mut self.out, &Packet::PingResp);
                Ok(())
            }
            (State::Live { .. }, Packet::Disconnect) => {
                // F3: a clean leave; the will is discarded.
                self.end(End::PeerClosed);
                Ok(())
            }
            (_, other) => Err(SessionFault::Unexpected(kind(other))),
        }
    }
}

impl<I: Instant, K: SessionKeys> Machine for DasSession<I, K> {
    type Instant = I;
    type Input = [u8];
    type Transmit = Vec<u8>;
    type Event = DasEvent;

    fn handle_input(&mut self, now: I, input: Input<'_, [u8]>) {
        if matches!(self.state, State::Done) {
            return;
        }
        let Input::Data(data) = input else {
            self.end(End::PeerClosed);
            return;
        };
        if let State::Live {
            silent_until,
            grace,
            ..
        } = &mut self.state
            && !data.is_empty()
        {
            *silent_until = now + *grace;
        }
        let mut decoder = core::mem::take(&mut self.decoder);
        let result = feed_packets(&mut decoder, data, |packet| {
            self.packet(now, &packet)?;
            Ok(!matches!(self.state, State::Done))
        });
        self.decoder = decoder;
        if let Err(fault) = result {
            self.end(End::PeerFault(fault));
        }
    }

    fn handle_timeout(&mut self, now: I) {
        if self.poll_timeout().is_some_and(|due| now >= due) {
            self.end(End::TimedOut);
        }
    }

    fn poll_timeout(&self) -> Option<I> {
        match &self.state {
            State::AwaitConnect { deadline } => Some(*deadline),
            State::Live {
                silent_until,
                grace,
                ..
            } if !grace.is_zero() => Some(*silent_until),
            _ => None,
        }
    }

    fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.out.pop_transmit()
    }

    fn poll_event(&mut self) -> Option<DasEvent> {
        self.out.pop_event()
    }

    fn recycle(&mut self, frame: Vec<u8>) {
        self.out.recycle(frame);
    }
}
