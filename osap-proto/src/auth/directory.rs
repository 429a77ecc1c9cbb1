//! What the LBS knows about devices (section 5): the directory it asks,
//! the record an enrolled device leaves in it, and a directory in memory.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;

use crate::control::Suite;
use crate::crypto::{MasterKey, VerificationCode};

/// A device that completed first authentication (Figure 3): what both
/// sides keep for reauthentication (Figure 4). The device keeps it from
/// [`DeviceConnectionEvent::Enrolled`](crate::DeviceConnectionEvent::Enrolled);
/// the LBS keeps it through [`DeviceDirectory::assign_devid`].
///
/// The protocol type and suite are those negotiated when the device
/// enrolled: a refresh (0x4) is made and accepted with them only, since
/// no negotiation runs on a refresh connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolled {
    /// The devid the LBS assigned.
    pub devid: String,
    /// The masterkey (a secret: zeroized on drop, redacted in `Debug`).
    pub master_key: MasterKey,
    /// The negotiated protocol type.
    pub protocol_type: u8,
    /// The negotiated suite.
    pub suite: Suite,
}

/// What the LBS knows about devices, supplied by the caller: in memory
/// ([`MemoryDirectory`]) or a store shared by many LBS processes. Each call
/// that may fail returns a reason, which the LBS reports as
/// [`AuthRefusal::Directory`](crate::AuthRefusal::Directory) and answers
/// with a refused result.
pub trait DeviceDirectory {
    /// The verification code of the device with this serial number, if it
    /// is known.
    fn verification_code(&self, serial: &str) -> Option<VerificationCode>;
    /// What was kept when this devid enrolled, if anything
    /// (reauthentication).
    fn enrolled(&self, devid: &str) -> Option<Enrolled>;
    /// A devid for the authenticated device with this serial number, sent
    /// to it in 0x8; nothing is kept yet: the device has not confirmed.
    ///
    /// # Errors
    ///
    /// The reason the directory cannot give one.
    fn propose_devid(&mut self, serial: &str) -> Result<String, &'static str>;
    /// The device confirmed the devid (0x9): keep the record.
    ///
    /// # Errors
    ///
    /// The reason the directory cannot keep it.
    fn assign_devid(&mut self, serial: &str, enrolled: &Enrolled) -> Result<(), &'static str>;
    /// The DAS address (`host:port`) this device should use.
    ///
    /// # Errors
    ///
    /// The reason the directory has none for it.
    fn das_address(&self, devid: &str) -> Result<String, &'static str>;
}

impl<D: DeviceDirectory + ?Sized> DeviceDirectory for &mut D {
    fn verification_code(&self, serial: &str) -> Option<VerificationCode> {
        (**self).verification_code(serial)
    }
    fn enrolled(&self, devid: &str) -> Option<Enrolled> {
        (**self).enrolled(devid)
    }
    fn propose_devid(&mut self, serial: &str) -> Result<String, &'static str> {
        (**self).propose_devid(serial)
    }
    fn assign_devid(&mut self, serial: &str, enrolled: &Enrolled) -> Result<(), &'static str> {
        (**self).assign_devid(serial, enrolled)
    }
    fn das_address(&self, devid: &str) -> Result<String, &'static str> {
        (**self).das_address(devid)
    }
}

/// A [`DeviceDirectory`] in memory: for one process, tests and examples.
///
/// Devids are `dev-` and the serial number; one DAS address serves every
/// device. A device that authenticates for the first time again (it lost
/// its masterkey, say, after a factory reset) replaces its earlier record
/// once it confirms: it has shown its verification code again.
#[derive(Debug, Clone, Default)]
pub struct MemoryDirectory {
    codes: BTreeMap<String, VerificationCode>,
    enrolled: BTreeMap<String, Enrolled>,
    serials: BTreeMap<String, String>,
    das_address: String,
}

impl MemoryDirectory {
    /// An empty directory that sends every device to `das_address`.
    #[must_use]
    pub fn new(das_address: impl Into<String>) -> Self {
        Self {
            das_address: das_address.into(),
            ..Self::default()
        }
    }

    /// Adds a device that may enroll: its serial number and verification
    /// code.
    pub fn add_device(&mut self, serial: impl Into<String>, code: VerificationCode) {
        self.codes.insert(serial.into(), code);
    }

    /// Forgets what the device with this serial number enrolled as, so it
    /// may enroll again.
    pub fn forget(&mut self, serial: &str) {
        if let Some(devid) = self.serials.remove(serial) {
            self.enrolled.remove(&devid);
        }
    }

    /// The number of enrolled devices.
    #[must_use]
    pub fn len(&self) -> usize {
        self.enrolled.len()
    }

    /// Whether no device has enrolled.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.enrolled.is_empty()
    }
}

impl DeviceDirectory for MemoryDirectory {
    fn verification_code(&self, serial: &str) -> Option<VerificationCode> {
        self.codes.get(serial).cloned()
    }

    fn enrolled(&self, devid: &str) -> Option<Enrolled> {
        self.enrolled.get(devid).cloned()
    }

    fn propose_devid(&mut self, serial: &str) -> Result<String, &'static str> {
        if !self.codes.contains_key(serial) {
            return Err("unknown serial number");
        }
        Ok(format!("dev-{serial}"))
    }

    fn assign_devid(&mut self, serial: &str, enrolled: &Enrolled) -> Result<(), &'static str> {
        self.forget(serial);
        self.serials.insert(serial.into(), enrolled.devid.clone());
        self.enrolled
            .insert(enrolled.devid.clone(), enrolled.clone());
        Ok(())
    }

    fn das_address(&self, devid: &str) -> Result<String, &'static str> {
        if !self.enrolled.contains_key(devid) {
            return Err("devid not enrolled");
        }
        if self.das_address.is_empty() {
            return Err("no DAS address configured");
        }
        Ok(self.das_address.clone())
    }
}
