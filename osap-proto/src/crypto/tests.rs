use super::cipher::*;
use super::keys::*;
use crate::control::Suite;
use aes::Aes128;
use aes::cipher::KeyInit;
use sha2::{Digest, Sha256};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// FIPS-197 Appendix C.1 (AES-128).
#[test]
fn fips_197_c1() {
    let cipher = Aes128::new_from_slice(&hex("000102030405060708090a0b0c0d0e0f")).unwrap();
    let mut block = hex("00112233445566778899aabbccddeeff");
    ecb_encrypt(&cipher, &mut block);
    assert_eq!(block, hex("69c4e0d86a7b0430d8cdb78070b4c55a"));
    ecb_decrypt(&cipher, &mut block);
    assert_eq!(block, hex("00112233445566778899aabbccddeeff"));
}

const SP800_38A_KEY: &str = "2b7e151628aed2a6abf7158809cf4f3c";
const SP800_38A_PLAIN: &str = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51\
                               30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";

/// NIST SP 800-38A F.1.1 (ECB-AES128.Encrypt).
#[test]
fn sp800_38a_ecb() {
    let cipher = Aes128::new_from_slice(&hex(SP800_38A_KEY)).unwrap();
    let mut data = hex(SP800_38A_PLAIN);
    ecb_encrypt(&cipher, &mut data);
    assert_eq!(
        data,
        hex(
            "3ad77bb40d7a3660a89ecaf32466ef97f5d3d58503b9699de785895a96fdbaaf\
             43b1cd7f598ece23881b00e3ed0306887b0c785e27e8ad3f8223207104725dd4"
        )
    );
    ecb_decrypt(&cipher, &mut data);
    assert_eq!(data, hex(SP800_38A_PLAIN));
}

/// NIST SP 800-38A F.2.1 (CBC-AES128.Encrypt).
#[test]
fn sp800_38a_cbc() {
    let cipher = Aes128::new_from_slice(&hex(SP800_38A_KEY)).unwrap();
    let iv: [u8; 16] = hex("000102030405060708090a0b0c0d0e0f").try_into().unwrap();
    let mut data = hex(SP800_38A_PLAIN);
    cbc_encrypt(&cipher, &iv, &mut data);
    assert_eq!(
        data,
        hex(
            "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2\
             73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7"
        )
    );
    cbc_decrypt(&cipher, &iv, &mut data);
    assert_eq!(data, hex(SP800_38A_PLAIN));
}

/// A fixed "RNG" that yields the given bytes, to pin nonces in
/// known-answer tests.
struct Fixed(Vec<u8>);
impl rand_core::RngCore for Fixed {
    fn next_u32(&mut self) -> u32 {
        0
    }
    fn next_u64(&mut self) -> u64 {
        0
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        let n = dest.len();
        dest.copy_from_slice(&self.0[..n]);
        self.0.drain(..n);
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}
impl rand_core::CryptoRng for Fixed {}

/// GCM test cases 1 and 2 of the GCM specification by `McGrew` and `Viega` (the
/// vectors NIST SP 800-38D's validation uses): zero key, zero nonce.
#[test]
fn gcm_test_cases_1_and_2() {
    let key = [0u8; 16];
    let sealed = seal(Suite::Aes128Gcm, &key, b"", b"", &mut Fixed(vec![0; 12])).unwrap();
    assert_eq!(sealed[12..], hex("58e2fccefa7e3061367f1d57a4e7455a")[..]);
    let sealed = seal(
        Suite::Aes128Gcm,
        &key,
        b"",
        &[0u8; 16],
        &mut Fixed(vec![0; 12]),
    )
    .unwrap();
    assert_eq!(
        sealed[12..],
        hex("0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf")[..]
    );
    assert_eq!(
        open(Suite::Aes128Gcm, &key, b"", &sealed).unwrap(),
        [0u8; 16]
    );
}

#[test]
fn every_suite_detects_tampering_truncation_wrong_key_and_wrong_aad() {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
    use rand_core::SeedableRng;
    let key = [7u8; 16];
    for suite in [Suite::Aes128Gcm, Suite::Aes128Cbc, Suite::Aes128Ecb] {
        for len in [0usize, 1, 15, 16, 17, 100] {
            let plain: Vec<u8> = (0..len).map(|i| u8::try_from(i % 256).unwrap()).collect();
            let sealed = seal(suite, &key, b"aad", &plain, &mut rng).unwrap();
            assert!(sealed.len() <= plain.len() + overhead(suite));
            assert_eq!(
                open(suite, &key, b"aad", &sealed).unwrap(),
                plain,
                "{suite:?} {len}"
            );
            for i in 0..sealed.len() {
                let mut t = sealed.clone();
                t[i] ^= 0x01;
                assert_eq!(
                    open(suite, &key, b"aad", &t),
                    Err(CryptoError::Authentication),
                    "{suite:?} byte {i}"
                );
            }
            assert!(open(suite, &key, b"aad", &sealed[..sealed.len() - 1]).is_err());
            assert_eq!(
                open(suite, &[8u8; 16], b"aad", &sealed),
                Err(CryptoError::Authentication)
            );
            assert_eq!(
                open(suite, &key, b"aae", &sealed),
                Err(CryptoError::Authentication)
            );
        }
        assert!(matches!(
            open(suite, &key, b"", &[0u8; 3]),
            Err(CryptoError::Truncated { .. })
        ));
    }
    assert_eq!(
        seal(Suite::Reserved8, &key, b"", b"", &mut rng),
        Err(CryptoError::UnsupportedSuite(Suite::Reserved8))
    );
}

#[test]
fn nonces_differ_between_seals() {
    use rand_core::SeedableRng;
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    let a = seal(Suite::Aes128Gcm, &[1; 16], b"", b"same", &mut rng).unwrap();
    let b = seal(Suite::Aes128Gcm, &[1; 16], b"", b"same", &mut rng).unwrap();
    assert_ne!(a[..12], b[..12]);
}

/// RFC 5903 section 8.2: the 384-bit random ECP group.
#[test]
fn rfc_5903_p384_ecdh() {
    let i = EcdhKeyPair::from_scalar(&hex(
        "099f3c7034d4a2c699884d73a375a67f7624ef7c6b3c0f160647b67414dce655e35b538041e649ee3faef896783ab194",
    ))
    .unwrap();
    let r = EcdhKeyPair::from_scalar(&hex(
        "41cb0779b4bdb85d47846725fbec3c9430fab46cc8dc5060855cc9bda0aa2942e0308312916b8ed2960e4bd55a7448fc",
    ))
    .unwrap();
    let gi = hex(
        "04667842d7d180ac2cde6f74f37551f55755c7645c20ef73e31634fe72b4c55ee6de3ac808acb4bdb4c88732aee95f41aa\
         9482ed1fc0eeb9cafc4984625ccfc23f65032149e0e144ada024181535a0f38eeb9fcff3c2c947dae69b4c634573a81c",
    );
    let gr = hex(
        "04e558dbef53eecde3d3fccfc1aea08a89a987475d12fd950d83cfa41732bc509d0d1ac43a0336def96fda41d0774a3571\
         dcfbec7aacf3196472169e838430367f66eebe3c6e70c416dd5f0c68759dd1fff83fa40142209dff5eaad96db9e6386c",
    );
    assert_eq!(i.public_key()[..], gi[..]);
    assert_eq!(r.public_key()[..], gr[..]);
    let gir = hex(
        "11187331c279962d93d604243fd592cb9d0a926f422e47187521287e7156c5c4d603135569b9e9d09cf5d4a270f59746",
    );
    assert_eq!(i.shared_secret(&gr).unwrap()[..], gir[..]);
    assert_eq!(r.shared_secret(&gi).unwrap()[..], gir[..]);
    // Device and server masterkeys agree, under either rule.
    for rule in [MasterKeyRule::Sha256, MasterKeyRule::Truncate] {
        assert_eq!(
            i.master_key(&gr, rule).unwrap(),
            r.master_key(&gi, rule).unwrap()
        );
    }
    assert_eq!(
        i.master_key(&gr, MasterKeyRule::Truncate).unwrap().expose()[..],
        gir[..16]
    );
    assert_eq!(
        i.master_key(&gr, MasterKeyRule::Sha256).unwrap().expose()[..],
        Sha256::digest(&gir)[..16]
    );
    assert_eq!(
        i.master_key(&[4u8; 97], MasterKeyRule::Sha256),
        Err(CryptoError::InvalidPublicKey)
    );
    assert!(EcdhKeyPair::from_scalar(&[0u8; 48]).is_err());
}

/// The sharekey against Python's hashlib, run once:
///
/// ```text
/// python3 -c "
/// import hashlib
/// code, serial = '123456', 'SN-0001'
/// a = hashlib.md5((code + serial).encode()).hexdigest()
/// b = hashlib.md5((a + 'www.88075998.com').encode()).hexdigest()
/// c = hashlib.md5(b.encode()).hexdigest()
/// print(hashlib.pbkdf2_hmac('sha256', c.encode(), serial.encode(), 1000, 16).hex())
/// print(hashlib.pbkdf2_hmac('sha256', c.encode(), serial.encode(), 1000, 32).hex())
/// a = hashlib.md5((code + serial).encode()).digest()
/// b = hashlib.md5(a + b'www.88075998.com').digest()
/// c = hashlib.md5(b).digest()
/// print(hashlib.pbkdf2_hmac('sha256', c, b'fixed-salt', 2000, 16).hex())"
/// ```
#[test]
fn sharekey_against_hashlib() {
    let code = VerificationCode::new("123456");
    let defaults = ShareKeyParams::default();
    assert_eq!(
        ShareKey::derive(&code, "SN-0001", &defaults).expose()[..],
        hex("2f5f55aef80b6dd9ee7d0d595e5847c5")[..]
    );
    let mut long = [0u8; 32];
    share_key_material(&code, "SN-0001", &defaults, &mut long);
    assert_eq!(
        long[..],
        hex("2f5f55aef80b6dd9ee7d0d595e5847c57c92dc7296bdfff5e2942a12e5e2b30d")[..]
    );
    let other = ShareKeyParams {
        salt: Salt::Fixed(b"fixed-salt".to_vec()),
        iterations: 2_000,
        md5_form: Md5Form::Raw,
    };
    assert_eq!(
        ShareKey::derive(&code, "SN-0001", &other).expose()[..],
        hex("f2a669e173f4c2020b51fc5b321728e1")[..]
    );
    assert_ne!(
        ShareKey::derive(&VerificationCode::new("123457"), "SN-0001", &defaults),
        ShareKey::derive(&code, "SN-0001", &defaults)
    );
}

#[test]
fn keys_are_redacted() {
    for (shown, name, value) in [
        (
            format!("{:?}", SessionKey::from_bytes([0x5a; 16])),
            "SessionKey(",
            "90",
        ),
        (
            format!("{:?}", VerificationCode::new("4711")),
            "VerificationCode(",
            "4711",
        ),
        (
            format!("{:?}", EcdhKeyPair::from_scalar(&[7; 48]).unwrap()),
            "EcdhKeyPair",
            "7, 7",
        ),
    ] {
        assert!(shown.starts_with(name), "{shown}");
        assert!(!shown.contains(value), "{shown}");
    }
    assert_ne!(
        MasterKey::from_bytes([1; 16]),
        MasterKey::from_bytes([2; 16])
    );
}
