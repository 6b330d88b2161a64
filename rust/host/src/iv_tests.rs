// SPDX-License-Identifier: GPL-2.0

//! Known answers of the IV generators, as dm-crypt's C computes them.

use crate::iv::{generate, iv_sector, key_index, IvError};
use crate::table::IvMode;

fn gen(mode: IvMode, len: usize, sector: u64, shift: u32) -> Vec<u8> {
    let mut iv = vec![0xeeu8; len];
    generate(mode, &mut iv, sector, shift).expect("generate");
    iv
}

#[test]
fn plain_is_low_32_bits_le() {
    let iv = gen(IvMode::Plain, 16, 0x1_2345_6789, 0);
    assert_eq!(iv, [0x89, 0x67, 0x45, 0x23, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
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

#[test]
fn generators_with_state_are_refused() {
    let mut iv = [0u8; 16];
    for mode in [IvMode::Lmk, IvMode::Tcw, IvMode::Random, IvMode::Eboiv, IvMode::Elephant] {
        assert_eq!(generate(mode, &mut iv, 1, 0), Err(IvError::Unsupported));
    }
    let mut short = [0u8; 4];
    assert_eq!(generate(IvMode::Plain64, &mut short, 1, 0), Err(IvError::TooShort));
}

#[test]
fn large_sectors_and_key_index() {
    assert_eq!(iv_sector(64, false, 3), 64);
    assert_eq!(iv_sector(64, true, 3), 8);
    assert_eq!(key_index(13, 1), 0);
    assert_eq!(key_index(13, 4), 1);
    assert_eq!(key_index(13, 64), 13);
}
