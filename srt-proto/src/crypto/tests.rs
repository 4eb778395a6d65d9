//! Known-answer tests of the primitives, round trips, tampering and the key
//! refresh schedule. The libsrt captures are in `tests/crypto_vectors.rs`.

use super::cipher::{ctr_iv, gcm153_iv, gcm_aad, gcm_iv, PacketCipher};
use super::kdf::pbkdf2_hmac_sha1;
use super::*;
use crate::packet::{Cipher, KeyMaterial, KmKeys};

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

// ---------------------------------------------------------------- PBKDF2

#[test]
fn pbkdf2_rfc6070() {
    let cases: [(&[u8], &[u8], u32, &str); 4] = [
        (
            b"password",
            b"salt",
            1,
            "0c60c80f961f0e71f3a9b524af6012062fe037a6",
        ),
        (
            b"password",
            b"salt",
            2,
            "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957",
        ),
        (
            b"password",
            b"salt",
            4096,
            "4b007901b765489abead49d926f721d065a429c1",
        ),
        (
            b"passwordPASSWORDpassword",
            b"saltSALTsaltSALTsaltSALTsaltSALTsalt",
            4096,
            "3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038",
        ),
    ];
    for (password, salt, rounds, expected) in cases {
        let expected = hex(expected);
        let mut out = vec![0u8; expected.len()];
        pbkdf2_hmac_sha1(password, salt, rounds, &mut out);
        assert_eq!(out, expected, "{rounds} rounds");
    }
    // "pass\0word" / "sa\0lt", 4096 rounds, 16 bytes.
    let mut out = [0u8; 16];
    pbkdf2_hmac_sha1(b"pass\0word", b"sa\0lt", 4096, &mut out);
    assert_eq!(out.to_vec(), hex("56fa6aa75548099dcc37d7f03425e0c3"));
}

#[test]
fn kek_uses_the_last_8_salt_bytes_and_2048_rounds() {
    let salt: Vec<u8> = (1..=16).collect();
    let kek = derive_kek(b"0123456789abcdef", &salt, 16).unwrap();
    let mut expected = [0u8; 16];
    pbkdf2_hmac_sha1(b"0123456789abcdef", &salt[8..], 2048, &mut expected);
    assert_eq!(kek.as_bytes(), expected);
    // The first 8 salt bytes do not matter.
    let mut other = salt.clone();
    other[..8].fill(0xEE);
    let kek2 = derive_kek(b"0123456789abcdef", &other, 16).unwrap();
    assert_eq!(kek.as_bytes(), kek2.as_bytes());
    assert_eq!(
        derive_kek(b"0123456789abcdef", &salt, 32)
            .unwrap()
            .key_len(),
        32
    );
    assert_eq!(
        derive_kek(b"0123456789abcdef", &salt, 24)
            .unwrap()
            .key_len(),
        24
    );
    // A short salt is used whole, as libsrt's min(8, salt_len).
    let short = derive_kek(b"0123456789abcdef", &salt[..4], 16).unwrap();
    pbkdf2_hmac_sha1(b"0123456789abcdef", &salt[..4], 2048, &mut expected);
    assert_eq!(short.as_bytes(), expected);
}

#[test]
fn kek_errors() {
    let salt = [7u8; 16];
    assert_eq!(
        derive_kek(b"", &salt, 16).unwrap_err(),
        CryptoError::EmptyPassphrase
    );
    assert_eq!(
        derive_kek(b"0123456789", &salt, 20).unwrap_err(),
        CryptoError::BadKeyLength(20)
    );
    assert_eq!(
        derive_kek(b"0123456789", &[0u8; 20], 16).unwrap_err(),
        CryptoError::BadSaltLength(20)
    );
}

// ---------------------------------------------------------------- key wrap

#[test]
fn key_wrap_rfc3394() {
    let kek128 = hex("000102030405060708090A0B0C0D0E0F");
    let kek192 = hex("000102030405060708090A0B0C0D0E0F1011121314151617");
    let kek256 = hex("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F");
    let data128 = hex("00112233445566778899AABBCCDDEEFF");
    let data192 = hex("00112233445566778899AABBCCDDEEFF0001020304050607");
    let data256 = hex("00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F");
    let cases = [
        // §4.1 .. §4.6
        (
            &kek128,
            &data128,
            "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5",
        ),
        (
            &kek192,
            &data128,
            "96778B25AE6CA435F92B5B97C050AED2468AB8A17AD84E5D",
        ),
        (
            &kek256,
            &data128,
            "64E8C3F9CE0F5BA263E9777905818A2A93C8191E7D6E8AE7",
        ),
        (
            &kek192,
            &data192,
            "031D33264E15D33268F24EC260743EDCE1C6C7DDEE725A936BA814915C6762D2",
        ),
        (
            &kek256,
            &data192,
            "A8F9BC1612C68B3FF6E6F4FBE30E71E4769C8B80A32CB8958CD5D17D6B254DA1",
        ),
        (
            &kek256,
            &data256,
            "28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21",
        ),
    ];
    for (kek, data, expected) in cases {
        let kek = Key::new(kek).unwrap();
        let expected = hex(expected);
        let mut out = [0u8; 72];
        let n = wrap_keys(&kek, data, &mut out).unwrap();
        assert_eq!(&out[..n], &expected[..]);
        let mut back = [0u8; 64];
        let m = unwrap_keys(&kek, &expected, &mut back).unwrap();
        assert_eq!(&back[..m], &data[..]);
        // One flipped bit anywhere fails the integrity check.
        for bit in [0, 77, expected.len() * 8 - 1] {
            let mut bad = expected.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            let mut back = [0xAAu8; 64];
            assert_eq!(
                unwrap_keys(&kek, &bad, &mut back).unwrap_err(),
                CryptoError::BadSecret
            );
            assert!(back[..m].iter().all(|&b| b == 0), "wiped on failure");
        }
    }
}

#[test]
fn key_wrap_rejects_bad_lengths() {
    let kek = Key::new(&[1u8; 16]).unwrap();
    let mut out = [0u8; 72];
    assert!(wrap_keys(&kek, &[0u8; 8], &mut out).is_err());
    assert!(wrap_keys(&kek, &[0u8; 17], &mut out).is_err());
    assert!(wrap_keys(&kek, &[0u8; 16], &mut out[..20]).is_err());
    assert!(unwrap_keys(&kek, &[0u8; 23], &mut out).is_err());
    assert!(unwrap_keys(&kek, &[0u8; 16], &mut out).is_err());
    assert!(unwrap_keys(&kek, &[0u8; 40], &mut out[..8]).is_err());
}

// ---------------------------------------------------------------- ciphers

#[test]
fn aes_ctr_sp800_38a() {
    // NIST SP 800-38A F.5.1 CTR-AES128.Encrypt: the counter's low bytes
    // roll over (…fdff → …fe00), so the whole block counts, as in OpenSSL.
    let key = Key::new(&hex("2b7e151628aed2a6abf7158809cf4f3c")).unwrap();
    let c = PacketCipher::new(Cipher::AesCtr, &key).unwrap();
    let iv: [u8; 16] = hex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff").try_into().unwrap();
    let mut data = hex(
        "6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51
         30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710",
    );
    c.ctr_apply(&iv, &mut data).unwrap();
    assert_eq!(
        data,
        hex(
            "874d6191b620e3261bef6864990db6ce 9806f66b7970fdff8617187bb9fffdff
             5ae4df3edbd5d35e5b4f09020db03eab 1e031dda2fbe03d1792170a0f3009cee"
        )
    );
}

#[test]
fn aes_gcm_mcgrew_viega() {
    // "The Galois/Counter Mode of Operation", test cases 3 and 4 (AES-128,
    // 96-bit IV) and 15/16 (AES-256).
    let p = hex(
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72
         1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
    );
    let iv: [u8; 12] = hex("cafebabefacedbaddecaf888").try_into().unwrap();
    let aad = hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
    let k128 = Key::new(&hex("feffe9928665731c6d6a8f9467308308")).unwrap();
    let k256 = Key::new(&hex(
        "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
    ))
    .unwrap();
    let cases = [
        (
            &k128,
            &[][..],
            64,
            "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e
             21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
            "4d5c2af327cd64a62cf35abd2ba6fab4",
        ),
        (
            &k128,
            &aad[..],
            60,
            "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e
             21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
            "5bc94fbc3221a5db94fae95ae7121a47",
        ),
        (
            &k256,
            &[][..],
            64,
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa
             8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
            "b094dac5d93471bdec1a502270e3cc6c",
        ),
        (
            &k256,
            &aad[..],
            60,
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa
             8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
            "76fc6ece0f4e1768cddf8853bb2d551b",
        ),
    ];
    for (key, aad, len, ct, tag) in cases {
        let c = PacketCipher::new(Cipher::AesGcm, key).unwrap();
        let mut data = p[..len].to_vec();
        let t = c.gcm_seal(&iv, aad, &mut data).unwrap();
        assert_eq!(data, hex(ct));
        assert_eq!(t.to_vec(), hex(tag));
        c.gcm_open(&iv, aad, &mut data, &t).unwrap();
        assert_eq!(data, &p[..len]);
    }
}

#[test]
fn iv_layouts() {
    let salt: [u8; 16] = core::array::from_fn(|i| 0x10 + i as u8);
    let pki = 0x1234_5678u32.to_be_bytes();
    let ctr = ctr_iv(&salt, pki);
    assert_eq!(
        ctr,
        [
            0x10,
            0x11,
            0x12,
            0x13,
            0x14,
            0x15,
            0x16,
            0x17,
            0x18,
            0x19, //
            0x1a ^ 0x12,
            0x1b ^ 0x34,
            0x1c ^ 0x56,
            0x1d ^ 0x78,
            0,
            0
        ]
    );
    let gcm = gcm_iv(&salt, pki);
    assert_eq!(
        gcm,
        [
            0x10,
            0x11,
            0x12,
            0x13,
            0x14,
            0x15,
            0x16,
            0x17, //
            0x18 ^ 0x12,
            0x19 ^ 0x34,
            0x1a ^ 0x56,
            0x1b ^ 0x78
        ]
    );
    // gcm153: the CTR block cut to 12 bytes: only the seq's high 16 bits.
    assert_eq!(gcm153_iv(&salt, pki), ctr[..12]);
    assert_eq!(gcm153_iv(&salt, pki)[10..], [0x1a ^ 0x12, 0x1b ^ 0x34]);

    let header: [u8; 16] = [
        0x01, 0x02, 0x03, 0x04, 0xCC, 0x00, 0x00, 0x07, 9, 10, 11, 12, 13, 14, 15, 16,
    ];
    // R (0x04 in byte 4) is cleared; KK (0x08) stays.
    assert_eq!(
        gcm_aad(&header, false),
        [1, 2, 3, 4, 0xC8, 0, 0, 7, 9, 10, 11, 12, 13, 14, 15, 16]
    );
    assert_eq!(
        gcm_aad(&header, true),
        [4, 3, 2, 1, 7, 0, 0, 0xC8, 12, 11, 10, 9, 16, 15, 14, 13]
    );
}

// ---------------------------------------------------------------- context

const PASS: &[u8] = b"0123456789abcdef";

fn salt() -> [u8; 16] {
    core::array::from_fn(|i| (i as u8).wrapping_mul(37).wrapping_add(5))
}

fn header(seq: u32, msgno: u32) -> [u8; 16] {
    let mut h = [0u8; 16];
    h[..4].copy_from_slice(&seq.to_be_bytes());
    h[4..8].copy_from_slice(&(0xC000_0000 | msgno).to_be_bytes());
    h[8..12].copy_from_slice(&123_456u32.to_be_bytes());
    h[12..].copy_from_slice(&0x0BAD_CAFEu32.to_be_bytes());
    h
}

fn payload(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| (i as u8).wrapping_mul(7) ^ seed).collect()
}

/// (cipher, gcm153) of every mode.
const MODES: [(Cipher, bool); 3] = [
    (Cipher::AesCtr, false),
    (Cipher::AesGcm, false),
    (Cipher::AesGcm, true),
];

#[test]
fn round_trip_every_mode_and_key_length() {
    for (cipher, gcm153) in MODES {
        for key_len in [16, 24, 32] {
            let sek = payload(key_len, 0x5A);
            let mut tx =
                CryptoContext::sender(PASS, cipher, &salt(), &sek, RefreshConfig::default())
                    .unwrap();
            tx.set_gcm153(gcm153);
            let km = tx.key_material().unwrap();
            assert_eq!(km.keys, KmKeys::Even);
            assert_eq!(km.cipher, cipher);
            assert_eq!(km.key_len as usize, key_len);
            let mut rx = CryptoContext::receiver(PASS, &km).unwrap();
            rx.set_gcm153(gcm153);
            for (seq, len) in [(0u32, 1316usize), (0x7FFF_FFFF, 1), (12345, 0), (99, 1440)] {
                let plain = payload(len, seq as u8);
                let mut hdr = header(seq, 1);
                let mut buf = vec![0u8; 1500];
                buf[..len].copy_from_slice(&plain);
                let n = tx.encrypt(KeyIndex::Even, &mut hdr, &mut buf, len).unwrap();
                assert_eq!(hdr[4] & 0x18, 0x08, "KK = even");
                match cipher {
                    Cipher::AesCtr => assert_eq!(n, len),
                    Cipher::AesGcm => assert_eq!(n, len + GCM_TAG_LEN),
                }
                if len >= 16 {
                    assert_ne!(&buf[..len], &plain[..], "encrypted");
                }
                // A retransmission sets R: still decrypts.
                hdr[4] |= 0x04;
                let m = rx.decrypt(&hdr, &mut buf[..n]).unwrap();
                assert_eq!(
                    &buf[..m],
                    &plain[..],
                    "{cipher:?} gcm153={gcm153} {key_len}"
                );
            }
        }
    }
}

#[test]
fn gcm_layouts_differ() {
    // A gcm153 receiver cannot read a 1.5.4+ sender, and vice versa.
    let sek = [3u8; 16];
    let tx = CryptoContext::sender(
        PASS,
        Cipher::AesGcm,
        &salt(),
        &sek,
        RefreshConfig::default(),
    )
    .unwrap();
    let mut rx = CryptoContext::receiver(PASS, &tx.key_material().unwrap()).unwrap();
    rx.set_gcm153(true);
    let mut hdr = header(5, 1);
    let mut buf = [0u8; 116];
    let n = tx.encrypt(KeyIndex::Even, &mut hdr, &mut buf, 100).unwrap();
    assert_eq!(
        rx.decrypt(&hdr, &mut buf[..n]).unwrap_err(),
        CryptoError::AuthenticationFailed
    );
}

#[test]
fn gcm_rejects_tampering() {
    for (_, gcm153) in MODES.into_iter().filter(|m| m.0 == Cipher::AesGcm) {
        let sek = [9u8; 32];
        let mut tx = CryptoContext::sender(
            PASS,
            Cipher::AesGcm,
            &salt(),
            &sek,
            RefreshConfig::default(),
        )
        .unwrap();
        tx.set_gcm153(gcm153);
        let mut rx = CryptoContext::receiver(PASS, &tx.key_material().unwrap()).unwrap();
        rx.set_gcm153(gcm153);
        let plain = payload(200, 1);
        let mut hdr = header(77, 3);
        let mut sealed = vec![0u8; 216];
        sealed[..200].copy_from_slice(&plain);
        let n = tx
            .encrypt(KeyIndex::Even, &mut hdr, &mut sealed, 200)
            .unwrap();
        assert_eq!(n, 216);
        // Payload bits, tag bits.
        for bit in [0, 5 * 8 + 3, 199 * 8 + 7, 200 * 8, 215 * 8 + 7] {
            let mut buf = sealed.clone();
            buf[bit / 8] ^= 1 << (bit % 8);
            let before = buf.clone();
            assert_eq!(
                rx.decrypt(&hdr, &mut buf).unwrap_err(),
                CryptoError::AuthenticationFailed,
                "bit {bit}"
            );
            assert_eq!(buf, before, "untouched on failure");
        }
        // Header (AAD) bits other than R and KK: seq, PP, O, msgno,
        // timestamp, socket ID.
        for bit in [0, 31, 32, 34, 63, 64, 100, 127] {
            let mut h = hdr;
            h[bit / 8] ^= 0x80 >> (bit % 8);
            let mut buf = sealed.clone();
            assert_eq!(
                rx.decrypt(&h, &mut buf).unwrap_err(),
                CryptoError::AuthenticationFailed,
                "header bit {bit}"
            );
        }
        // The R flag is not authenticated.
        let mut h = hdr;
        h[4] ^= 0x04;
        let mut buf = sealed.clone();
        assert_eq!(rx.decrypt(&h, &mut buf).unwrap(), 200);
        assert_eq!(&buf[..200], &plain[..]);
        // Truncated below the tag.
        let mut short = sealed[..15].to_vec();
        assert_eq!(
            rx.decrypt(&hdr, &mut short).unwrap_err(),
            CryptoError::AuthenticationFailed
        );
    }
}

#[test]
fn encrypt_and_decrypt_errors() {
    let tx = CryptoContext::sender(
        PASS,
        Cipher::AesGcm,
        &salt(),
        &[1u8; 16],
        RefreshConfig::default(),
    )
    .unwrap();
    let mut hdr = header(1, 1);
    let mut buf = [0u8; 100];
    assert_eq!(
        tx.encrypt(KeyIndex::Even, &mut hdr, &mut buf, 90)
            .unwrap_err(),
        CryptoError::BufferTooSmall {
            needed: 106,
            have: 100
        }
    );
    assert_eq!(
        tx.encrypt(KeyIndex::Odd, &mut hdr, &mut buf, 10)
            .unwrap_err(),
        CryptoError::NoKey(KeyIndex::Odd)
    );
    let mut clear = header(1, 1);
    clear[4] &= !0x18;
    assert_eq!(
        tx.decrypt(&clear, &mut buf).unwrap_err(),
        CryptoError::NotEncrypted
    );
    clear[4] |= 0x18;
    assert_eq!(
        tx.decrypt(&clear, &mut buf).unwrap_err(),
        CryptoError::NotEncrypted
    );
    clear[4] = (clear[4] & !0x18) | 0x10;
    assert_eq!(
        tx.decrypt(&clear, &mut buf).unwrap_err(),
        CryptoError::NoKey(KeyIndex::Odd)
    );
    // Every buffer length decrypts or fails cleanly, never panics.
    for len in 0..40 {
        let mut b = vec![0u8; len];
        let _ = tx.decrypt(&header(2, 2), &mut b);
    }
}

#[test]
fn key_material_round_trip_and_bad_secret() {
    for cipher in [Cipher::AesCtr, Cipher::AesGcm] {
        for key_len in [16, 24, 32] {
            let kek = derive_kek(PASS, &salt(), key_len).unwrap();
            let even = Key::new(&payload(key_len, 1)).unwrap();
            let odd = Key::new(&payload(key_len, 2)).unwrap();
            for (e, o, kk) in [
                (Some(&even), None, KmKeys::Even),
                (None, Some(&odd), KmKeys::Odd),
                (Some(&even), Some(&odd), KmKeys::Both),
            ] {
                let km = seal_key_material(&kek, cipher, &salt(), e, o).unwrap();
                assert_eq!(km.keys, kk);
                assert_eq!(km.keki, 0);
                assert_eq!(km.salt.as_slice(), salt());
                assert_eq!(km.wrapped_keys.len(), 8 + kk.count() * key_len);
                // Through the wire format and back.
                let mut wire = [0u8; 104];
                let n = km.encode(&mut wire).unwrap();
                assert_eq!(n, 32 + 8 + kk.count() * key_len);
                let km = KeyMaterial::decode(&wire[..n]).unwrap();
                let keys = open_key_material(&kek, &km).unwrap();
                assert_eq!(keys.even.as_ref().map(Key::as_bytes), e.map(Key::as_bytes));
                assert_eq!(keys.odd.as_ref().map(Key::as_bytes), o.map(Key::as_bytes));
                // Another passphrase: BADSECRET.
                let wrong = derive_kek(b"fedcba9876543210", &salt(), key_len).unwrap();
                let err = open_key_material(&wrong, &km).unwrap_err();
                assert_eq!(err, CryptoError::BadSecret);
                assert_eq!(err.km_state(), KmState::BadSecret);
                assert_eq!(
                    CryptoContext::receiver(b"fedcba9876543210", &km).unwrap_err(),
                    CryptoError::BadSecret
                );
            }
        }
    }
}

#[test]
fn key_material_checks() {
    let kek = derive_kek(PASS, &salt(), 16).unwrap();
    let k16 = Key::new(&[1u8; 16]).unwrap();
    let k32 = Key::new(&[1u8; 32]).unwrap();
    assert!(seal_key_material(&kek, Cipher::AesCtr, &salt(), None, None).is_err());
    assert!(seal_key_material(&kek, Cipher::AesCtr, &salt(), Some(&k32), None).is_err());
    assert!(seal_key_material(&kek, Cipher::AesCtr, &[0u8; 15], Some(&k16), None).is_err());
    let mut km = seal_key_material(&kek, Cipher::AesCtr, &salt(), Some(&k16), None).unwrap();
    // KEK of another length than the keys.
    let kek32 = derive_kek(PASS, &salt(), 32).unwrap();
    assert!(open_key_material(&kek32, &km).is_err());
    // Wrapped length inconsistent with KK.
    km.keys = KmKeys::Both;
    assert!(matches!(
        open_key_material(&kek, &km).unwrap_err(),
        CryptoError::BadKeyMaterial(_)
    ));
    km.keys = KmKeys::Even;
    km.key_len = 20;
    assert_eq!(
        open_key_material(&kek, &km).unwrap_err(),
        CryptoError::BadKeyLength(20)
    );
    // An update with another cipher: BADCRYPTOMODE.
    let mut rx = CryptoContext::receiver(
        PASS,
        &seal_key_material(&kek, Cipher::AesCtr, &salt(), Some(&k16), None).unwrap(),
    )
    .unwrap();
    let gcm = seal_key_material(&kek, Cipher::AesGcm, &salt(), Some(&k16), None).unwrap();
    let err = rx.apply_key_material(PASS, &gcm).unwrap_err();
    assert_eq!(err, CryptoError::CipherMismatch);
    assert_eq!(err.km_state(), KmState::BadCryptoMode);
}

#[test]
fn key_debug_hides_bytes() {
    let k = Key::new(&[0xAB; 16]).unwrap();
    assert_eq!(format!("{k:?}"), "Key(<16 bytes>)");
    let tx = CryptoContext::sender(
        PASS,
        Cipher::AesCtr,
        &salt(),
        &[0xAB; 16],
        RefreshConfig::default(),
    )
    .unwrap();
    let s = format!("{tx:?}");
    assert!(
        !s.contains("171") && !s.to_lowercase().contains("ab, ab"),
        "{s}"
    );
}

// ---------------------------------------------------------------- refresh

#[test]
fn refresh_defaults() {
    assert_eq!(
        RefreshConfig::default(),
        RefreshConfig {
            refresh_rate: 0x100_0000,
            pre_announce: 0x1_0000
        }
    );
    assert_eq!(
        RefreshConfig::from_options(2000, 500),
        RefreshConfig {
            refresh_rate: 2000,
            pre_announce: 500
        }
    );
    assert_eq!(RefreshConfig::from_options(2000, 0).pre_announce, 0x1_0000);
}

/// Drives a sender through `packets` packets, installing a new key whenever
/// asked; returns (packet number, action) of every action and the key of
/// every packet.
fn drive(
    tx: &mut CryptoContext,
    rx: &mut CryptoContext,
    packets: u32,
) -> (Vec<(u32, RefreshAction)>, Vec<KeyIndex>) {
    let mut actions = Vec::new();
    let mut keys = Vec::new();
    let mut next_sek = 100u8;
    for i in 1..=packets {
        let key = tx.active_key();
        keys.push(key);
        let mut hdr = header(i, i);
        let mut buf = payload(40, i as u8);
        tx.encrypt(key, &mut hdr, &mut buf, 40).unwrap();
        rx.decrypt(&hdr, &mut buf).unwrap();
        assert_eq!(buf, payload(40, i as u8));
        let action = tx.on_packet_encrypted();
        if action != RefreshAction::None {
            actions.push((i, action));
        }
        if let RefreshAction::PreAnnounce { slot } = action {
            next_sek += 1;
            assert_eq!(tx.install_next_key(&[next_sek; 16]).unwrap(), slot);
            let km = tx.key_material().unwrap();
            assert_eq!(km.keys, KmKeys::Both);
            rx.apply_key_material(PASS, &km).unwrap();
        }
        if let RefreshAction::Retired { slot } = action {
            // No longer announced, still there for retransmissions of the
            // packets it encrypted (which the receiver still decrypts).
            assert!(tx.has_key(slot));
            assert_eq!(tx.key_material().unwrap().keys, tx.active_key().km_keys());
            let mut hdr = header(i - 1, i);
            let mut buf = payload(40, 7);
            tx.encrypt(slot, &mut hdr, &mut buf, 40).unwrap();
            rx.decrypt(&hdr, &mut buf).unwrap();
            assert_eq!(buf, payload(40, 7));
        }
    }
    (actions, keys)
}

#[test]
fn refresh_schedule_matches_hcrypt_ctx_tx() {
    let mut tx = CryptoContext::sender(
        PASS,
        Cipher::AesCtr,
        &salt(),
        &[1u8; 16],
        RefreshConfig::from_options(2000, 500),
    )
    .unwrap();
    let mut rx = CryptoContext::receiver(PASS, &tx.key_material().unwrap()).unwrap();
    let (actions, keys) = drive(&mut tx, &mut rx, 6500);
    use KeyIndex::{Even, Odd};
    use RefreshAction::*;
    assert_eq!(
        actions,
        vec![
            // First key counted from 1: pre-announce after 1500 packets,
            // switch after 2000.
            (1500, PreAnnounce { slot: Odd }),
            (2000, Switched { to: Odd }),
            // Later keys counted from 0: retire after 501 packets of the
            // new key, pre-announce after 1501, switch after 2001.
            (2501, Retired { slot: Even }),
            (3501, PreAnnounce { slot: Even }),
            (4001, Switched { to: Even }),
            (4502, Retired { slot: Odd }),
            (5502, PreAnnounce { slot: Odd }),
            (6002, Switched { to: Odd }),
        ]
    );
    assert!(keys[..2000].iter().all(|&k| k == Even));
    assert!(keys[2000..4001].iter().all(|&k| k == Odd));
    assert!(keys[4001..6002].iter().all(|&k| k == Even));
    assert!(keys[6002..].iter().all(|&k| k == Odd));
}

#[test]
fn refresh_waits_for_the_next_key() {
    let mut tx = CryptoContext::sender(
        PASS,
        Cipher::AesGcm,
        &salt(),
        &[1u8; 16],
        RefreshConfig::from_options(10, 3),
    )
    .unwrap();
    let mut got = Vec::new();
    for _ in 0..12 {
        got.push(tx.on_packet_encrypted());
    }
    // Counts 2..=13: pre-announce from 8 on, never a switch without a key.
    assert!(got[..6].iter().all(|a| *a == RefreshAction::None));
    assert!(got[6..].iter().all(|a| *a
        == RefreshAction::PreAnnounce {
            slot: KeyIndex::Odd
        }));
    assert_eq!(tx.active_key(), KeyIndex::Even);
    assert!(tx.install_next_key(&[2u8; 32]).is_err(), "wrong length");
    tx.install_next_key(&[2u8; 16]).unwrap();
    assert_eq!(
        tx.on_packet_encrypted(),
        RefreshAction::Switched { to: KeyIndex::Odd }
    );
    assert_eq!(tx.active_key(), KeyIndex::Odd);
}

#[test]
fn mirrors_share_keys() {
    let tx = CryptoContext::sender(
        PASS,
        Cipher::AesCtr,
        &salt(),
        &[4u8; 24],
        RefreshConfig::default(),
    )
    .unwrap();
    // Initiator: receives with its own key.
    let own_rx = tx.mirror_for_receiving().unwrap();
    // Responder: receives the KMREQ, sends with the same key.
    let peer_rx = CryptoContext::receiver(PASS, &tx.key_material().unwrap()).unwrap();
    let peer_tx = peer_rx
        .mirror_for_sending(RefreshConfig::default())
        .unwrap();
    assert_eq!(
        peer_tx.key_material().unwrap(),
        tx.key_material().unwrap(),
        "the KMRSP echo"
    );
    let mut hdr = header(9, 9);
    let mut buf = payload(64, 9);
    peer_tx
        .encrypt(peer_tx.active_key(), &mut hdr, &mut buf, 64)
        .unwrap();
    own_rx.decrypt(&hdr, &mut buf).unwrap();
    assert_eq!(buf, payload(64, 9));
}
