//! Structure-aware: any IRSP request of Messages 1-15 (arbitrary account
//! credentials, user and device names, passwords, verification codes,
//! data and additional parameters, built through the crate's public
//! types), written as its URL, then read back by the server role that
//! receives it: the same request, or a typed error when a value breaks
//! clause 8's rules (an empty parameter, a value over a limit), never for
//! how it was written; never another request.
//! And any response status a message defines: written, then read back.
#![no_main]

use irsp_proto::{
    AccountAuth, AdditionalParams, DeviceAccount, DeviceData, DeviceName, DeviceNotice,
    DeviceRemoval, Domain, Limits, MessageKind, Request, RequestError, Response, Secret,
    ServerAddress, ServiceRoutes, Status, UserAccount, UserData, UserName, UserRemoval,
    VerifyCodeReset,
};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;

fn secret(u: &mut Unstructured<'_>) -> Result<Secret> {
    Ok(Secret::new(u.arbitrary::<String>()?))
}

fn auth(u: &mut Unstructured<'_>) -> Result<AccountAuth> {
    Ok(AccountAuth {
        appid: u.arbitrary()?,
        token: secret(u)?,
    })
}

fn user(u: &mut Unstructured<'_>) -> Result<Option<UserName>> {
    Ok(UserName::new(u.arbitrary::<String>()?).ok())
}

fn device(u: &mut Unstructured<'_>) -> Result<Option<DeviceName>> {
    Ok(DeviceName::new(u.arbitrary::<String>()?).ok())
}

fn request(u: &mut Unstructured<'_>) -> Result<Option<Request>> {
    let kind = u.int_in_range(1..=15u8)?;
    let (Some(user), Some(device)) = (user(u)?, device(u)?) else {
        return Ok(None);
    };
    let user_account = |u: &mut Unstructured<'_>| -> Result<UserAccount> {
        Ok(UserAccount {
            auth: auth(u)?,
            name: user.clone(),
            password: secret(u)?,
        })
    };
    let device_account = |u: &mut Unstructured<'_>| -> Result<Option<DeviceAccount>> {
        let mut additional = AdditionalParams::new();
        for _ in 0..u.int_in_range(0..=2u8)? {
            if additional
                .push(u.arbitrary::<String>()?, u.arbitrary::<String>()?)
                .is_err()
            {
                return Ok(None);
            }
        }
        Ok(Some(DeviceAccount {
            auth: auth(u)?,
            name: device.clone(),
            password: secret(u)?,
            verifycode: if u.arbitrary()? {
                Some(secret(u)?)
            } else {
                None
            },
            device_type: u.arbitrary()?,
            vendor: u.arbitrary()?,
            model: u.arbitrary()?,
            additional,
        }))
    };
    let user_data = |u: &mut Unstructured<'_>| -> Result<UserData> {
        Ok(UserData {
            userid: user.clone(),
            data: u.arbitrary()?,
        })
    };
    let device_data = |u: &mut Unstructured<'_>| -> Result<DeviceData> {
        Ok(DeviceData {
            deviceid: device.clone(),
            data: u.arbitrary()?,
        })
    };
    Ok(Some(match kind {
        1 => Request::RegisterUser(user_account(u)?),
        2 | 4 => match device_account(u)? {
            Some(d) if kind == 2 => Request::RegisterDevice(d),
            Some(d) => Request::ModifyDevice(d),
            None => return Ok(None),
        },
        3 => Request::ModifyUser(user_account(u)?),
        5 => Request::RemoveUser(UserRemoval {
            auth: auth(u)?,
            name: user.clone(),
        }),
        6 => Request::RemoveDevice(DeviceRemoval {
            auth: auth(u)?,
            name: device.clone(),
        }),
        7 => Request::ResetVerifyCode(VerifyCodeReset {
            deviceid: device.clone(),
            verifycode: secret(u)?,
        }),
        8 => Request::UserUpload(user_data(u)?),
        9 => Request::DeviceUpload(device_data(u)?),
        10 => Request::DeviceOnline(DeviceNotice {
            deviceid: device.clone(),
        }),
        11 => Request::DeviceOffline(DeviceNotice {
            deviceid: device.clone(),
        }),
        12 => Request::PushToUser(user_data(u)?),
        13 => Request::PushToDevice(device_data(u)?),
        14 => Request::ExchangeUser(user_data(u)?),
        _ => Request::ExchangeDevice(device_data(u)?),
    }))
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let (Ok(routes), Ok(domain)) = (
        ServiceRoutes::new("/up/user", "/up/device", "/notify", "/push", "/exchange"),
        Domain::new("ms.igrs.com"),
    ) else {
        return;
    };
    let Ok(server) = ServerAddress::new(domain, 443) else {
        return;
    };
    if let Ok(Some(request)) = request(&mut u) {
        let url = request.to_url(&server, &routes);
        let receiver = request.kind().receiver();
        match Request::parse_url(&url, receiver, &routes, &Limits::default()) {
            Ok(back) => assert_eq!(back, request, "{url}"),
            // Refused for a value alone (empty, or over a limit); any other
            // refusal would mean the writer wrote what the reader cannot
            // read (an unescaped character, a missing or doubled
            // parameter, an identifier that no longer reads).
            Err(
                RequestError::EmptyParameter { .. }
                | RequestError::ValueTooLong { .. }
                | RequestError::QueryTooLong { .. }
                | RequestError::TooManyParameters { .. },
            ) => {}
            Err(e) => panic!("{request:?} written as {url} and refused: {e}"),
        }
    }
    let (Ok(n), Ok(code)) = (u.int_in_range(1..=15u8), u.arbitrary::<u16>()) else {
        return;
    };
    let (Some(kind), Some(status)) = (MessageKind::from_number(n), Status::from_code(code)) else {
        return;
    };
    if let Ok(response) = Response::new(kind, status) {
        let again = Response::parse(
            kind,
            response.status_code(),
            response.body().as_bytes(),
            &Limits::default(),
        );
        assert_eq!(again.as_ref(), Ok(&response));
    }
});
