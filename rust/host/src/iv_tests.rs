// SPDX-License-Identifier: GPL-2.0

//! Known answers of the IV generators, as dm-crypt's C computes them.

use crate::iv::{generate, generate_slice, iv_sector, key_index, IvError};
use crate::table::IvMode;

fn gen(mode: IvMode, len: usize, sector: u64, shift: u32) -> Vec<u8> {
    let mut iv = vec![0xeeu8; len];
    generate(mode, &mut iv, sector, shift).expect("generate");
    iv
}

/// The IV modes whose generator keeps state (keys, seeds) in the target.
const WITH_STATE: [IvMode; 5] = [
    IvMode::Lmk,
    IvMode::Tcw,
    IvMode::Random,
    IvMode::Eboiv,
    IvMode::Elephant,
];

#[test]
fn plain_is_low_32_bits_le() {
    let iv = gen(IvMode::Plain, 16, 0x1_2345_6789, 0);
    assert_eq!(
        iv,
        [0x89, 0x67, 0x45, 0x23, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    );
}

#[test]
fn plain64_and_essiv_are_64_bit_le() {
    for mode in [IvMode::Plain64, IvMode::Essiv] {
        let iv = gen(mode, 16, 0x0102_0304_0506_0708, 0);
        assert_eq!(iv, [8, 7, 6, 5, 4, 3, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    }
}

#[test]
fn plain64be_is_at_the_end() {
    let iv = gen(IvMode::Plain64Be, 16, 0x0102_0304_0506_0708, 0);
    assert_eq!(iv, [0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
}

#[test]
fn benbi_counts_narrow_blocks_from_one() {
    // 16-byte blocks: shift 9 - 4 = 5; sector 1 starts at block 32, +1.
    let iv = gen(IvMode::Benbi, 16, 1, 5);
    assert_eq!(&iv[8..], &33u64.to_be_bytes());
    assert_eq!(&iv[..8], &[0; 8]);
    let iv = gen(IvMode::Benbi, 16, 0, 5);
    assert_eq!(&iv[8..], &1u64.to_be_bytes());
}

#[test]
fn null_and_no_iv_are_zero() {
    assert_eq!(gen(IvMode::Null, 16, 12345, 0), vec![0; 16]);
    assert_eq!(gen(IvMode::NoIv, 8, 12345, 0), vec![0; 8]);
}

/// 16-byte IVs take a fast path; it must write what the general one writes.
#[test]
fn sixteen_byte_fast_path_matches_the_general_one() {
    let modes = [
        IvMode::NoIv,
        IvMode::Null,
        IvMode::Plain,
        IvMode::Plain64,
        IvMode::Essiv,
        IvMode::Plain64Be,
        IvMode::Benbi,
    ];
    let sectors = [
        0,
        1,
        0xff,
        0x1_0000_0000,
        0x0102_0304_0506_0708,
        u64::MAX,
        u64::MAX >> 5,
    ];
    for mode in modes {
        for sector in sectors {
            for shift in [0, 1, 5] {
                let mut fast = [0xeeu8; 16];
                let mut slow = [0xeeu8; 16];
                assert_eq!(generate(mode, &mut fast, sector, shift), Ok(()));
                assert_eq!(generate_slice(mode, &mut slow, sector, shift), Ok(()));
                assert_eq!(fast, slow, "{mode:?} sector {sector:#x} shift {shift}");
            }
        }
    }
    for mode in WITH_STATE {
        let mut iv = [0u8; 16];
        assert_eq!(
            generate(mode, &mut iv, 1, 0),
            generate_slice(mode, &mut iv, 1, 0)
        );
    }
}

#[test]
fn generators_with_state_are_refused() {
    let mut iv = [0u8; 16];
    for mode in WITH_STATE {
        assert_eq!(generate(mode, &mut iv, 1, 0), Err(IvError::Unsupported));
    }
    let mut short = [0u8; 4];
    assert_eq!(
        generate(IvMode::Plain64, &mut short, 1, 0),
        Err(IvError::TooShort)
    );
}

#[test]
fn large_sectors_and_key_index() {
    assert_eq!(iv_sector(64, false, 3), 64);
    assert_eq!(iv_sector(64, true, 3), 8);
    assert_eq!(key_index(13, 1), 0);
    assert_eq!(key_index(13, 4), 1);
    assert_eq!(key_index(13, 64), 13);
}

mod stateful {
    use crate::iv::{
        crc32_le, eboiv_block, elephant, lmk_iv, md5_block, tcw_iv, tcw_whitening, LMK_SEED_SIZE,
    };

    fn md5_state_hex(state: [u32; 4]) -> String {
        state
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    #[test]
    fn md5_compression_matches_rfc1321() {
        // MD5("") is one block: 0x80, zeros, bit length 0.
        let mut block = [0u8; 64];
        block[0] = 0x80;
        let mut st = [0x67452301u32, 0xefcdab89, 0x98badcfe, 0x10325476];
        md5_block(&mut st, &block);
        assert_eq!(md5_state_hex(st), "d41d8cd98f00b204e9800998ecf8427e");
        // MD5("abc")
        let mut block = [0u8; 64];
        block[..3].copy_from_slice(b"abc");
        block[3] = 0x80;
        block[56] = 24;
        let mut st = [0x67452301u32, 0xefcdab89, 0x98badcfe, 0x10325476];
        md5_block(&mut st, &block);
        assert_eq!(md5_state_hex(st), "900150983cd24fb0d6963f7d28e17f72");
    }

    #[test]
    fn crc32_matches_the_standard_check_value() {
        // CRC-32 (ISO-HDLC) of "123456789" is 0xcbf43926 with init and final
        // inversion; crc32_le() does neither.
        assert_eq!(!crc32_le(!0, b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32_le(0, &[0, 0, 0, 0]), 0);
    }

    #[test]
    fn lmk_iv_ignores_the_first_block_and_depends_on_the_rest() {
        let mut data = [0u8; 512];
        for (i, b) in data.iter_mut().enumerate() {
            *b = i as u8;
        }
        let mut a = [0u8; 16];
        let mut b = [0u8; 16];
        lmk_iv(None, &data, 5, &mut a).unwrap();
        data[0] ^= 0xff;
        lmk_iv(None, &data, 5, &mut b).unwrap();
        assert_eq!(a, b, "block 0 is not hashed");
        data[511] ^= 1;
        lmk_iv(None, &data, 5, &mut b).unwrap();
        assert_ne!(a, b);
        // The sector is cropped to 56 bits.
        lmk_iv(None, &data, 5, &mut a).unwrap();
        lmk_iv(None, &data, 5 | 0xff << 56, &mut b).unwrap();
        assert_eq!(a, b);
        // v3: the seed changes the IV.
        let seed = [1u8; LMK_SEED_SIZE];
        lmk_iv(Some(&seed), &data, 5, &mut b).unwrap();
        assert_ne!(a, b);
        // An 8-byte IV (64-bit block ciphers) is the digest's first half.
        let mut short = [0u8; 8];
        lmk_iv(None, &data, 5, &mut short).unwrap();
        assert_eq!(short, a[..8]);
        assert!(lmk_iv(None, &data[..511], 5, &mut a).is_err());
    }

    #[test]
    fn tcw_whitening_is_an_involution_of_period_8() {
        let wh = [0x5au8; 16];
        let mut data = [0u8; 512];
        tcw_whitening(&wh, 9, &mut data, &mut [0u8; 16]).unwrap();
        assert_ne!(data, [0u8; 512]);
        assert!(data.chunks_exact(8).all(|c| c == &data[..8]));
        tcw_whitening(&wh, 9, &mut data, &mut [0u8; 16]).unwrap();
        assert_eq!(data, [0u8; 512]);
    }

    #[test]
    fn tcw_iv_is_seed_xor_sector() {
        let seed: Vec<u8> = (1..=16).collect();
        let mut iv = [0u8; 16];
        tcw_iv(&seed, 0x0102, &mut iv).unwrap();
        assert_eq!(iv, [3, 3, 3, 4, 5, 6, 7, 8, 11, 11, 11, 12, 13, 14, 15, 16]);
    }

    #[test]
    fn eboiv_block_is_the_byte_offset() {
        let mut b = [0xffu8; 16];
        eboiv_block(3, 4096, &mut b).unwrap();
        assert_eq!(b, [0, 0x30, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn elephant_diffuser_round_trips_for_every_sector_size() {
        let ks: [u8; 32] = core::array::from_fn(|i| (i * 37 + 11) as u8);
        for size in [512usize, 1024, 2048, 4096] {
            let orig: Vec<u8> = (0..size).map(|i| (i * 13 + i / 256) as u8).collect();
            let mut data = orig.clone();
            elephant::encrypt(&mut data, &ks).unwrap();
            assert_ne!(data, orig);
            // Diffusion: one flipped input bit changes most of the output.
            let mut other = orig.clone();
            other[size / 2] ^= 1;
            elephant::encrypt(&mut other, &ks).unwrap();
            let same = data.iter().zip(&other).filter(|(a, b)| a == b).count();
            assert!(same < size / 4, "size {size}: {same} bytes unchanged");
            elephant::decrypt(&mut data, &ks).unwrap();
            assert_eq!(data, orig, "size {size}");
        }
        assert!(elephant::encrypt(&mut [0u8; 16], &ks).is_err());
    }
}
