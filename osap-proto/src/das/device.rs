//! The device's session with the DAS: register (Figure 5, F1-F2), keep the
//! heartbeat (Figure 6), leave cleanly (F3).

use alloc::vec::Vec;
use core::time::Duration;

use iot_sansio::{End, Input, Instant, Machine, Outbox};

use super::register::Registration;
use super::{SessionEnd, SessionFault, feed_packets, kind, send};
use crate::crypto::SessionKey;
use crate::decoder::{DEFAULT_MAX_FRAME_LEN, FrameDecoder};
use crate::mqtt::{ConnectReturnCode, Packet};

/// How the device registers and keeps its heartbeat.
#[derive(Debug, Clone)]
pub struct DeviceSessionConfig {
    /// What the CONNECT says; its keep-alive is the heartbeat interval.
    pub registration: Registration,
    /// The sessionkey the LBS issued, which proves the registration.
    pub key: SessionKey,
    /// How long to wait for the CONNACK (default 10 s).
    pub connack_timeout: Duration,
    /// How long to wait for a PINGRESP before the DAS is declared dead
    /// (default 10 s).
    pub ping_timeout: Duration,
    /// The longest frame accepted (default 64 KiB).
    pub max_frame_len: usize,
}

impl DeviceSessionConfig {
    /// The defaults, for this registration and key.
    #[must_use]
    pub fn new(registration: Registration, key: SessionKey) -> Self {
        Self {
            registration,
            key,
            connack_timeout: Duration::from_secs(10),
            ping_timeout: Duration::from_secs(10),
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
        }
    }
}

/// What the device's session reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceSessionEvent {
    /// The DAS accepted the registration (F2).
    Registered,
    /// The session ended, once: [`End::Closed`] after
    /// [`DeviceSession::disconnect`]; [`End::Refused`] with the CONNACK's
    /// code; [`End::TimedOut`] when no CONNACK or no PINGRESP came;
    /// [`End::PeerClosed`]; [`End::PeerFault`].
    Ended(SessionEnd),
}

impl From<SessionEnd> for DeviceSessionEvent {
    fn from(end: SessionEnd) -> Self {
        Self::Ended(end)
    }
}

#[derive(Debug, Clone, Copy)]
enum State<I> {
    /// CONNECT sent at `sent`; the CONNACK is due by `deadline`.
    Registering {
        sent: I,
        deadline: I,
    },
    /// Registered: the last packet went out at `last_sent`; a PINGREQ
    /// waits for its PINGRESP until `ping_deadline`.
    Live {
        last_sent: I,
        ping_deadline: Option<I>,
    },
    Done,
}

/// The device side of the DAS connection (sections 6 and 7): it sends the
/// CONNECT at once, waits for the CONNACK, then sends a PINGREQ whenever
/// it has sent nothing for a keep-alive interval and declares the DAS dead
/// when the PINGRESP does not come.
#[derive(Debug)]
pub struct DeviceSession<I> {
    registration: Registration,
    decoder: FrameDecoder,
    keep_alive: Duration,
    ping_timeout: Duration,
    state: State<I>,
    out: Outbox<Vec<u8>, DeviceSessionEvent>,
}

impl<I: Instant> DeviceSession<I> {
    /// A session that registers at `now` (the CONNECT is queued).
    #[must_use]
    pub fn new(now: I, config: DeviceSessionConfig) -> Self {
        let mut out = Outbox::new();
        let connect = Packet::Connect(config.registration.to_connect(&config.key));
        send(&mut out, &connect);
        let keep_alive = Duration::from_secs(config.registration.keep_alive.into());
        Self {
            registration: config.registration,
            decoder: FrameDecoder::new(config.max_frame_len),
            keep_alive,
            ping_timeout: config.ping_timeout,
            state: State::Registering {
                sent: now,
                deadline: now + config.connack_timeout,
            },
            out,
        }
    }

    /// What this session registered with. Its counter is used up: keep a
    /// greater one (durably) for the next registration under this
    /// sessionkey.
    #[must_use]
    pub fn registration(&self) -> &Registration {
        &self.registration
    }

    /// Whether the DAS has accepted the registration and the session is
    /// live.
    #[must_use]
    pub fn is_registered(&self) -> bool {
        matches!(self.state, State::Live { .. })
    }

    /// Leaves cleanly (F3): queues a DISCONNECT and ends the session with
    /// [`End::Closed`]; the DAS closes the connection when it reads it.
    pub fn disconnect(&mut self) {
        if matches!(self.state, State::Done) {
            return;
        }
        send(&mut self.out, &Packet::Disconnect);
        self.end(End::Closed);
    }

    fn end(&mut self, end: SessionEnd) {
        self.state = State::Done;
        self.out.end(end);
    }

    fn packet(&mut self, packet: &Packet<'_>) -> Result<(), SessionFault> {
        match (self.state, packet) {
            (State::Registering { sent, .. }, Packet::ConnAck(ack)) => {
                if ack.code == ConnectReturnCode::Accepted {
                    // The interval counts from the CONNECT, the last
                    // packet sent (MQTT 3.1.1 section 3.1.2.10).
                    self.state = State::Live {
                        last_sent: sent,
                        ping_deadline: None,
                    };
                    self.out.event(DeviceSessionEvent::Registered);
                } else {
                    self.end(End::Refused(ack.code));
                }
                Ok(())
            }
            (
                State::Live {
                    last_sent,
                    ping_deadline: Some(_),
                },
                Packet::PingResp,
            ) => {
                self.state = State::Live {
                    last_sent,
                    ping_deadline: None,
                };
                Ok(())
            }
            (_, other) => Err(SessionFault::Unexpected(kind(other))),
        }
    }
}

impl<I: Instant> Machine for DeviceSession<I> {
    type Instant = I;
    type Input = [u8];
    type Transmit = Vec<u8>;
    type Event = DeviceSessionEvent;

    fn handle_input(&mut self, _now: I, input: Input<'_, [u8]>) {
        if matches!(self.state, State::Done) {
            return;
        }
        let Input::Data(data) = input else {
            self.end(End::PeerClosed);
            return;
        };
        let mut decoder = core::mem::take(&mut self.decoder);
        let result = feed_packets(&mut decoder, data, |packet| {
            self.packet(&packet)?;
            Ok(!matches!(self.state, State::Done))
        });
        self.decoder = decoder;
        if let Err(fault) = result {
            self.end(End::PeerFault(fault));
        }
    }

    fn handle_timeout(&mut self, now: I) {
        match self.state {
            State::Registering { deadline, .. }
            | State::Live {
                ping_deadline: Some(deadline),
                ..
            } if now >= deadline => {
                self.end(End::TimedOut);
            }
            State::Live {
                last_sent,
                ping_deadline: None,
            } if !self.keep_alive.is_zero() && now >= last_sent + self.keep_alive => {
                send(&mut self.out, &Packet::PingReq);
                self.state = State::Live {
                    last_sent: now,
                    ping_deadline: Some(now + self.ping_timeout),
                };
            }
            _ => {}
        }
    }

    fn poll_timeout(&self) -> Option<I> {
        match self.state {
            State::Registering { deadline, .. } => Some(deadline),
            State::Live {
                ping_deadline: Some(deadline),
                ..
            } => Some(deadline),
            State::Live { last_sent, .. } if !self.keep_alive.is_zero() => {
                Some(last_sent + self.keep_alive)
            }
            _ => None,
        }
    }

    fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.out.pop_transmit()
    }

    fn poll_event(&mut self) -> Option<DeviceSessionEvent> {
        self.out.pop_event()
    }

    fn recycle(&mut self, frame: Vec<u8>) {
        self.out.recycle(frame);
    }
}
