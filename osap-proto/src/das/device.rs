//! The device's session with the DAS: register (Figure 5, F1-F2), keep the
//! heartbeat (Figure 6), exchange business messages (section 2), send the
//! offline events (2.1.4), leave cleanly (F3).

use alloc::vec::Vec;
use core::time::Duration;

use iot_sansio::{End, Input, Instant, Machine, Outbox, Outgoing};
use rand_core::CryptoRngCore;

use super::common::{PacketSession, SessionEnd, SessionFault, earliest, handle_input, kind, send};
use super::live::{Live, SessionError};
use super::queue::{EventQueue, Overflow, Pushed, QueuedEvent};
use super::register::Registration;
use crate::business::{Body, BusinessChannel, BusinessError, BusinessMessage, Direction};
use crate::control::Suite;
use crate::crypto::SessionKey;
use crate::decoder::{DEFAULT_MAX_FRAME_LEN, FrameDecoder};
use crate::mqtt::{ConnectReturnCode, Delivery, Packet};
use crate::session::Out;

/// How the device registers, keeps its heartbeat and queues its events.
#[derive(Debug, Clone)]
pub struct DeviceSessionConfig {
    /// What the CONNECT says; its keep-alive is the heartbeat interval.
    pub registration: Registration,
    /// The sessionkey the LBS issued, which proves the registration and
    /// seals business messages.
    pub key: SessionKey,
    /// The suite negotiated with the LBS (default AES-128-GCM).
    pub suite: Suite,
    /// The events not yet acknowledged: a new queue (default 256 events,
    /// dropping the oldest when full), or the previous session's
    /// ([`DeviceSession::into_events`]) or a restored one.
    pub events: EventQueue,
    /// The most events in flight at once, sent and not yet acknowledged
    /// (default 20, as brokers commonly allow): the rest wait, and each
    /// PUBACK lets the next one out. A `u16` because an MQTT connection
    /// cannot number more than 65,535 packets in flight; at least one is
    /// always allowed.
    pub in_flight_window: u16,
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
            suite: Suite::Aes128Gcm,
            events: EventQueue::new(256, Overflow::DropOldest),
            in_flight_window: 20,
            connack_timeout: Duration::from_secs(10),
            ping_timeout: Duration::from_secs(10),
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
        }
    }
}

/// What the device's session reports.
#[derive(Debug, Clone, PartialEq)]
pub enum DeviceSessionEvent {
    /// The DAS accepted the registration (F2); queued events go out now.
    Registered,
    /// The platform asks: an attribute read or set, or an operation call.
    /// Answer with [`DeviceSession::send`] (`attr-values`, `op-result`,
    /// same id).
    Request(BusinessMessage),
    /// The answer to an operation this device called.
    Answer(BusinessMessage),
    /// An answer that came after its call timed out, or to no call.
    Late(BusinessMessage),
    /// A call of this device got no answer in time.
    CallTimedOut {
        /// The call.
        id: u64,
    },
    /// An event reached the DAS: its PUBACK came.
    EventDelivered(QueuedEvent),
    /// An event did not fit in the queue: the oldest was dropped, or the
    /// new one refused, as the queue's policy says.
    EventDropped(QueuedEvent),
    /// A PUBLISH from the DAS was refused: replayed, reordered, tampered,
    /// or not a business message for this device.
    Rejected(BusinessError),
    /// The session ended, once: [`End::Closed`] after
    /// [`DeviceSession::disconnect`]; [`End::Refused`] with the CONNACK's
    /// code; [`End::TimedOut`] when no CONNACK or no PINGRESP came;
    /// [`End::PeerClosed`]; [`End::PeerFault`]. Events not acknowledged
    /// stay in the queue ([`DeviceSession::into_events`]).
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

/// The device side of the DAS connection (sections 2, 6 and 7): it sends
/// the CONNECT at once and waits for the CONNACK; then it sends a PINGREQ
/// whenever it has sent nothing for a keep-alive interval, declares the
/// DAS dead when the PINGRESP does not come, exchanges sealed business
/// messages, and sends its queued events in order at QoS 1.
#[derive(Debug)]
pub struct DeviceSession<I, R> {
    decoder: FrameDecoder,
    core: Core<I, R>,
    out: Out<DeviceSessionEvent>,
}

/// The session's state, beside its decoder and outbox.
#[derive(Debug)]
struct Core<I, R> {
    registration: Registration,
    keep_alive: Duration,
    ping_timeout: Duration,
    state: State<I>,
    live: Live<I, R>,
    events: EventQueue,
    /// The most events in flight at once (at least 1).
    window: usize,
}

impl<I: Instant, R: CryptoRngCore> DeviceSession<I, R> {
    /// A session that registers at `now` (the CONNECT is queued); `rng`
    /// makes the nonces of sealed messages.
    #[must_use]
    pub fn new(now: I, config: DeviceSessionConfig, rng: R) -> Self {
        let mut out = Outbox::new();
        let connect = Packet::Connect(config.registration.to_connect(&config.key));
        send(&mut out, &connect);
        let keep_alive = Duration::from_secs(config.registration.keep_alive.into());
        let channel = BusinessChannel::new(
            config.suite,
            config.key,
            config.registration.devid.clone(),
            config.registration.counter,
            Direction::Up,
        );
        Self {
            decoder: FrameDecoder::new(config.max_frame_len),
            core: Core {
                registration: config.registration,
                keep_alive,
                ping_timeout: config.ping_timeout,
                state: State::Registering {
                    sent: now,
                    deadline: now + config.connack_timeout,
                },
                live: Live::new(channel, rng),
                events: config.events,
                window: usize::from(config.in_flight_window.max(1)),
            },
            out,
        }
    }

    /// What this session registered with. Its counter is used up: keep a
    /// greater one (durably) for the next registration under this
    /// sessionkey.
    #[must_use]
    pub fn registration(&self) -> &Registration {
        &self.core.registration
    }

    /// Whether the DAS has accepted the registration and the session is
    /// live.
    #[must_use]
    pub fn is_registered(&self) -> bool {
        matches!(self.core.state, State::Live { .. })
    }

    /// The events not yet acknowledged, for the runtime to keep
    /// ([`EventQueue::export`]).
    #[must_use]
    pub fn events(&self) -> &EventQueue {
        &self.core.events
    }

    /// The event queue, to hand to the next session after this one ended
    /// (what was in flight goes again, with DUP).
    #[must_use]
    pub fn into_events(mut self) -> EventQueue {
        self.core.events.connection_lost();
        self.core.events
    }

    /// Queues an event (2.1.4): it goes out now if the session is
    /// registered, else when it is, and stays queued until its PUBACK.
    /// When the queue is full its policy decides, and the event dropped or
    /// refused is reported ([`DeviceSessionEvent::EventDropped`]) as well
    /// as returned.
    ///
    /// # Errors
    ///
    /// [`SessionError::Business`] for a message that is not an event or
    /// whose area is not a topic level.
    pub fn send_event(&mut self, now: I, message: BusinessMessage) -> Result<Pushed, SessionError> {
        if !matches!(message.body, Body::Event { .. }) {
            return Err(SessionError::Business(BusinessError::Direction(
                message.body.kind().0,
            )));
        }
        message.check(Direction::Up)?;
        let pushed = self.core.events.push(message);
        if let Pushed::DroppedOldest(e) | Pushed::Refused(e) = &pushed {
            self.out.event(DeviceSessionEvent::EventDropped(e.clone()));
        }
        self.core.flush_events(&mut self.out, now);
        Ok(pushed)
    }

    /// Sends a business message other than an event at QoS 0: an answer
    /// to a request (`attr-values`, `op-result`), an attribute report, or
    /// an operation call, whose answer is then due within its
    /// `timeout_ms`.
    ///
    /// # Errors
    ///
    /// [`SessionError::NotRegistered`], [`SessionError::UseSendEvent`] for
    /// an event, [`SessionError::DuplicateRequest`] for a call id still
    /// waiting, [`SessionError::Business`] for a message that does not go
    /// up or whose area is not a topic level.
    pub fn send(&mut self, now: I, message: &BusinessMessage) -> Result<(), SessionError> {
        let State::Live { ping_deadline, .. } = self.core.state else {
            return Err(SessionError::NotRegistered);
        };
        if matches!(message.body, Body::Event { .. }) {
            return Err(SessionError::UseSendEvent);
        }
        message.check(Direction::Up)?;
        if let Body::OpCall { id, timeout_ms, .. } = message.body {
            self.core
                .live
                .expect(id, now + Duration::from_millis(timeout_ms.into()))?;
        }
        self.core
            .live
            .publish(&mut self.out, message, Delivery::AtMostOnce)?;
        self.core.state = State::Live {
            last_sent: now,
            ping_deadline,
        };
        Ok(())
    }

    /// Leaves cleanly (F3): queues a DISCONNECT and ends the session with
    /// [`End::Closed`]; the DAS closes the connection when it reads it.
    pub fn disconnect(&mut self) {
        if matches!(self.core.state, State::Done) {
            return;
        }
        send(&mut self.out, &Packet::Disconnect);
        self.core.end(&mut self.out, End::Closed);
    }
}

impl<I: Instant, R: CryptoRngCore> Core<I, R> {
    /// Sends queued events not yet sent on this connection, in order,
    /// while fewer than the window are in flight: each costs a look at
    /// the events in flight (bounded by the window), never at the whole
    /// queue.
    fn flush_events(&mut self, out: &mut Out<DeviceSessionEvent>, now: I) {
        let State::Live { ping_deadline, .. } = self.state else {
            return;
        };
        let room =
            |events: &EventQueue, window: usize| events.has_unsent() && events.in_flight() < window;
        if !room(&self.events, self.window) {
            return;
        }
        self.state = State::Live {
            last_sent: now,
            ping_deadline,
        };
        while room(&self.events, self.window) {
            let events = &self.events;
            let packet_id = self.live.packet_id(|id| events.is_in_flight(id));
            let Some(event) = self.events.send_next(packet_id) else {
                return;
            };
            let delivery = Delivery::AtLeastOnce {
                packet_id,
                dup: event.sent_before,
            };
            let mut message = event.message.clone();
            // Its number goes in the sealed body: a copy sent again after
            // a reconnect carries it, for the platform to keep one.
            if let Body::Event { id, .. } = &mut message.body {
                *id = Some(event.seq);
            }
            // Checked when queued; a failure here would be a bug, and the
            // event would wait for the next connection.
            let _ = self.live.publish(out, &message, delivery);
        }
    }
}

impl<I: Instant, R: CryptoRngCore> PacketSession<DeviceSessionEvent> for Core<I, R> {
    type Instant = I;
    fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }
    fn packet(
        &mut self,
        out: &mut Out<DeviceSessionEvent>,
        now: I,
        packet: &Packet<'_>,
    ) -> Result<(), SessionFault> {
        match (self.state, packet) {
            (State::Registering { sent, .. }, Packet::ConnAck(ack)) => {
                if ack.code == ConnectReturnCode::Accepted {
                    // The interval counts from the CONNECT, the last
                    // packet sent (MQTT 3.1.1 section 3.1.2.10).
                    self.state = State::Live {
                        last_sent: sent,
                        ping_deadline: None,
                    };
                    out.event(DeviceSessionEvent::Registered);
                    self.flush_events(out, now);
                } else {
                    self.end(out, End::Refused(ack.code));
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
            (State::Live { .. }, Packet::Publish(publish)) => {
                let event = match self.live.receive(publish) {
                    Err(e) => DeviceSessionEvent::Rejected(e),
                    Ok(message) => {
                        self.live.acknowledge(out, publish);
                        match message.body {
                            Body::OpResult { id, .. } if self.live.answered(id) => {
                                DeviceSessionEvent::Answer(message)
                            }
                            Body::OpResult { .. } => DeviceSessionEvent::Late(message),
                            _ => DeviceSessionEvent::Request(message),
                        }
                    }
                };
                out.event(event);
                Ok(())
            }
            (State::Live { .. }, Packet::PubAck(id)) => match self.events.acknowledge(*id) {
                Some(event) => {
                    out.event(DeviceSessionEvent::EventDelivered(event));
                    // The window has room again.
                    self.flush_events(out, now);
                    Ok(())
                }
                None => Err(SessionFault::Unexpected(kind(packet))),
            },
            (_, other) => Err(SessionFault::Unexpected(kind(other))),
        }
    }

    fn end(&mut self, out: &mut Out<DeviceSessionEvent>, end: SessionEnd) {
        self.state = State::Done;
        self.events.connection_lost();
        out.end(end);
    }
}

impl<I: Instant, R: CryptoRngCore> Machine for DeviceSession<I, R> {
    type Instant = I;
    type Input = [u8];
    type Transmit = Vec<u8>;
    type Event = DeviceSessionEvent;

    fn handle_input(&mut self, now: I, input: Input<'_, [u8]>) {
        handle_input(&mut self.decoder, &mut self.core, &mut self.out, now, input);
    }

    fn handle_timeout(&mut self, now: I) {
        match self.core.state {
            State::Registering { deadline, .. }
            | State::Live {
                ping_deadline: Some(deadline),
                ..
            } if now >= deadline => {
                self.core.end(&mut self.out, End::TimedOut);
                return;
            }
            State::Live {
                last_sent,
                ping_deadline: None,
            } if !self.core.keep_alive.is_zero() && now >= last_sent + self.core.keep_alive => {
                send(&mut self.out, &Packet::PingReq);
                self.core.state = State::Live {
                    last_sent: now,
                    ping_deadline: Some(now + self.core.ping_timeout),
                };
            }
            _ => {}
        }
        if self.is_registered() {
            for id in self.core.live.expired(now) {
                self.out.event(DeviceSessionEvent::CallTimedOut { id });
            }
        }
    }

    fn poll_timeout(&self) -> Option<I> {
        let heartbeat = match self.core.state {
            State::Registering { deadline, .. } => return Some(deadline),
            State::Live {
                ping_deadline: Some(deadline),
                ..
            } => Some(deadline),
            State::Live { last_sent, .. } if !self.core.keep_alive.is_zero() => {
                Some(last_sent + self.core.keep_alive)
            }
            State::Live { .. } => None,
            State::Done => return None,
        };
        earliest(heartbeat, self.core.live.next_deadline())
    }

    fn outgoing(&mut self) -> Outgoing<'_, Vec<u8>, DeviceSessionEvent> {
        self.out.outgoing()
    }

    fn recycle(&mut self, frame: Vec<u8>) {
        self.out.recycle(frame);
    }
}
