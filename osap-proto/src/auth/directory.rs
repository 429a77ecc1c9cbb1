//! What the LBS knows about devices (section 5), asked as requests: the
//! entry of a serial number (its verification code and enrolment), a devid
//! to propose, the enrolment written, the DAS a device goes to, and the
//! sessionkey records the DAS reads ([`KeyRecord`]). A directory in memory
//! answers at once; a runtime over a store shared by many LBS processes
//! answers [`LbsAuthEvent::Directory`](super::LbsAuthEvent::Directory)
//! requests later.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;

use iot_sansio::store::{Deferred, RequestId, StoreAnswer, Version, Versioned};

use crate::control::Suite;
use crate::crypto::{MasterKey, VerificationCode};
#[cfg(doc)]
use crate::records::KeyRecord;
use crate::records::{KeyAnswer, KeyOp, KeyTable};

/// A device that completed first authentication (Figure 3): what both
/// sides keep for reauthentication (Figure 4). The device keeps it from
/// [`DeviceConnectionEvent::Enrolled`](crate::DeviceConnectionEvent::Enrolled);
/// the LBS writes it with [`DirectoryOp::Enroll`].
///
/// The protocol type and suite are those negotiated when the device
/// enrolled: a refresh (0x4) is made and accepted with them only, since
/// no negotiation runs on a refresh connection.
///
/// With the `serde` feature it is a record a shared store can keep: the
/// masterkey is written in hexadecimal, in the clear (the store is its
/// keeper).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Enrolled {
    /// The devid the LBS assigned.
    pub devid: String,
    /// The masterkey (a secret: zeroized on drop, redacted in `Debug`).
    #[cfg_attr(
        feature = "serde",
        serde(
            serialize_with = "crate::crypto::stored::serialize",
            deserialize_with = "crate::crypto::stored::deserialize"
        )
    )]
    pub master_key: MasterKey,
    /// The negotiated protocol type.
    pub protocol_type: u8,
    /// The negotiated suite.
    pub suite: Suite,
}

/// What the LBS keeps under a serial number: the verification code the
/// device was made with, and what it enrolled as. With the `serde`
/// feature, a record for a shared store (the code in the clear).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DeviceEntry {
    /// The verification code.
    #[cfg_attr(feature = "serde", serde(with = "crate::crypto::stored::code"))]
    pub code: VerificationCode,
    /// The enrolment, once the device confirmed its devid.
    pub enrolled: Option<Enrolled>,
}

/// What the LBS asks its directory, at each step of Figures 3 and 4.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectoryOp<I> {
    /// `Authentication_ECDH_Req`: the entry of a serial number, with its
    /// version ([`DirectoryAnswer::Device`]).
    Device {
        /// The serial number.
        serial: String,
    },
    /// `Apply_Devid_Req`: a devid for the authenticated device
    /// ([`DirectoryAnswer::Devid`]); nothing is kept yet.
    ProposeDevid {
        /// The serial number.
        serial: String,
    },
    /// `Apply_Devid_Confirm`: keep the enrolment in the serial number's
    /// entry, only if the entry is still at the version read at the ECDH
    /// request ([`DirectoryAnswer::Stored`] or
    /// [`DirectoryAnswer::Conflict`]: another connection enrolled the
    /// serial number meanwhile).
    Enroll {
        /// The serial number.
        serial: String,
        /// The entry's version read at the ECDH request.
        expected: Version,
        /// The enrolment.
        enrolled: Enrolled,
    },
    /// `Refresh_SessionKey_Req`: the enrolment of a devid
    /// ([`DirectoryAnswer::Enrolled`]).
    Enrolled {
        /// The devid.
        devid: String,
    },
    /// `DAS_Req`: the DAS address (`host:port`) the device goes to
    /// ([`DirectoryAnswer::Address`]).
    DasAddress {
        /// The devid.
        devid: String,
    },
    /// The device's sessionkey record, read and written as the DAS reads
    /// and writes it ([`DirectoryAnswer::Key`]).
    Key(KeyOp<I>),
}

/// A directory's answer to a [`DirectoryOp`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectoryAnswer<I> {
    /// The serial number's entry and its version, or `None` for a serial
    /// number the directory does not know.
    Device(Option<Versioned<DeviceEntry>>),
    /// The devid to propose, or why there is none.
    Devid(Result<String, &'static str>),
    /// The devid's enrolment, or `None`.
    Enrolled(Option<Enrolled>),
    /// The DAS address, or why there is none.
    Address(Result<String, &'static str>),
    /// The enrolment is kept.
    Stored,
    /// The entry changed since it was read: the enrolment is not kept.
    Conflict,
    /// The answer to a sessionkey record request.
    Key(KeyAnswer<I>),
    /// The directory cannot answer now: the device is told to retry later.
    Unavailable,
}

impl<I> DirectoryOp<I> {
    /// Whether `answer` is one this operation can get.
    pub fn fits(&self, answer: &DirectoryAnswer<I>) -> bool {
        match (self, answer) {
            (Self::Key(op), DirectoryAnswer::Key(answer)) => op.fits(answer),
            (_, DirectoryAnswer::Unavailable) => true,
            (Self::Device { .. }, DirectoryAnswer::Device(_))
            | (Self::ProposeDevid { .. }, DirectoryAnswer::Devid(_))
            | (Self::Enroll { .. }, DirectoryAnswer::Stored | DirectoryAnswer::Conflict)
            | (Self::Enrolled { .. }, DirectoryAnswer::Enrolled(_))
            | (Self::DasAddress { .. }, DirectoryAnswer::Address(_)) => true,
            _ => false,
        }
    }
}

impl<I> iot_sansio::store::Operation for DirectoryOp<I> {
    type Answer = DirectoryAnswer<I>;

    fn fits(&self, answer: &DirectoryAnswer<I>) -> bool {
        DirectoryOp::fits(self, answer)
    }
}

/// A request in an LBS event: answer it with the machine's
/// `provide(now, id, answer)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryRequest<I> {
    /// Names the request.
    pub id: RequestId,
    /// What is asked.
    pub op: DirectoryOp<I>,
}

/// Where the LBS's requests go: a directory that answers inside the call
/// ([`MemoryDirectory`]), or the runtime ([`Deferred`]: every request
/// leaves as an event).
pub trait DeviceDirectory<I> {
    /// The answer now, or `None` to ask the runtime with an event.
    fn answer_now(&mut self, op: &DirectoryOp<I>) -> Option<DirectoryAnswer<I>>;
}

impl<I, D: DeviceDirectory<I> + ?Sized> DeviceDirectory<I> for &mut D {
    fn answer_now(&mut self, op: &DirectoryOp<I>) -> Option<DirectoryAnswer<I>> {
        (**self).answer_now(op)
    }
}

impl<I> DeviceDirectory<I> for Deferred {
    fn answer_now(&mut self, _: &DirectoryOp<I>) -> Option<DirectoryAnswer<I>> {
        None
    }
}

/// A [`DeviceDirectory`] in memory: for one process, tests and examples,
/// with the sessionkey records the DAS reads ([`MemoryDirectory::keys`]).
///
/// Devids are `dev-` and the serial number; one DAS address serves every
/// device. A device that authenticates for the first time again (it lost
/// its masterkey, say, after a factory reset) replaces its earlier
/// enrolment once it confirms: it has shown its verification code again.
#[derive(Debug, Clone)]
pub struct MemoryDirectory<I> {
    entries: iot_sansio::store::MemoryStore<String, DeviceEntry>,
    /// The serial number each enrolled devid belongs to.
    serials: BTreeMap<String, String>,
    keys: KeyTable<I>,
    das_address: String,
    unavailable: bool,
}

impl<I: Ord + Copy> MemoryDirectory<I> {
    /// An empty directory that sends every device to `das_address`.
    #[must_use]
    pub fn new(das_address: impl Into<String>) -> Self {
        Self {
            entries: iot_sansio::store::MemoryStore::new(),
            serials: BTreeMap::new(),
            keys: KeyTable::new(),
            das_address: das_address.into(),
            unavailable: false,
        }
    }

    /// Adds a device that may enroll: its serial number and verification
    /// code.
    pub fn add_device(&mut self, serial: impl Into<String>, code: VerificationCode) {
        let serial = serial.into();
        let enrolled = self.entries.get(&serial).and_then(|e| e.record.enrolled);
        self.entries.put(serial, DeviceEntry { code, enrolled });
    }

    /// Forgets what the device with this serial number enrolled as, so it
    /// may enroll again.
    pub fn forget(&mut self, serial: &str) {
        let Some(mut entry) = self.entries.get(serial) else {
            return;
        };
        if let Some(enrolled) = entry.record.enrolled.take() {
            self.serials.remove(&enrolled.devid);
            self.keys.remove(&enrolled.devid);
        }
        self.entries.put(serial.into(), entry.record);
    }

    /// What the devid enrolled as.
    #[must_use]
    pub fn enrolled(&self, devid: &str) -> Option<Enrolled> {
        let serial = self.serials.get(devid)?;
        self.entries.get(serial)?.record.enrolled
    }

    /// The number of enrolled devices.
    #[must_use]
    pub fn len(&self) -> usize {
        self.serials.len()
    }

    /// Whether no device has enrolled.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.serials.is_empty()
    }

    /// The sessionkey records the LBS wrote.
    #[must_use]
    pub fn keys(&self) -> &KeyTable<I> {
        &self.keys
    }

    /// The sessionkey records, which a DAS in the same process reads and
    /// writes.
    pub fn keys_mut(&mut self) -> &mut KeyTable<I> {
        &mut self.keys
    }

    /// Makes the directory answer "unavailable" to everything (`true`), as
    /// a store that is down, or answer again (`false`).
    pub fn set_unavailable(&mut self, unavailable: bool) {
        self.unavailable = unavailable;
        self.keys.set_unavailable(unavailable);
    }

    /// Answers a request.
    pub fn answer(&mut self, op: &DirectoryOp<I>) -> DirectoryAnswer<I> {
        if self.unavailable {
            return DirectoryAnswer::Unavailable;
        }
        match op {
            DirectoryOp::Device { serial } => DirectoryAnswer::Device(self.entries.get(serial)),
            DirectoryOp::ProposeDevid { serial } => {
                DirectoryAnswer::Devid(match self.entries.get(serial) {
                    Some(_) => Ok(format!("dev-{serial}")),
                    None => Err("unknown serial number"),
                })
            }
            DirectoryOp::Enroll {
                serial,
                expected,
                enrolled,
            } => self.enroll(serial, *expected, enrolled),
            DirectoryOp::Enrolled { devid } => DirectoryAnswer::Enrolled(self.enrolled(devid)),
            DirectoryOp::DasAddress { devid } => {
                DirectoryAnswer::Address(if !self.serials.contains_key(devid) {
                    Err("devid not enrolled")
                } else if self.das_address.is_empty() {
                    Err("no DAS address configured")
                } else {
                    Ok(self.das_address.clone())
                })
            }
            DirectoryOp::Key(op) => DirectoryAnswer::Key(self.keys.answer(op)),
        }
    }

    fn enroll(
        &mut self,
        serial: &str,
        expected: Version,
        enrolled: &Enrolled,
    ) -> DirectoryAnswer<I> {
        let Some(entry) = self.entries.get(serial) else {
            return DirectoryAnswer::Conflict;
        };
        let mut record = entry.record;
        let previous = record.enrolled.replace(enrolled.clone());
        let op = iot_sansio::store::StoreOp::Put {
            key: String::from(serial),
            expected,
            record,
        };
        match self.entries.answer(&op) {
            StoreAnswer::Stored(_) => {
                if let Some(previous) = previous {
                    self.serials.remove(&previous.devid);
                }
                self.serials
                    .insert(enrolled.devid.clone(), String::from(serial));
                DirectoryAnswer::Stored
            }
            _ => DirectoryAnswer::Conflict,
        }
    }
}

impl<I: Ord + Copy> DeviceDirectory<I> for MemoryDirectory<I> {
    fn answer_now(&mut self, op: &DirectoryOp<I>) -> Option<DirectoryAnswer<I>> {
        Some(self.answer(op))
    }
}
