//! The inverse BWT on arbitrary last columns and indices: an error or the one text whose
//! BWT this is, never a panic or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&index, last)) = data.split_first() else {
        return;
    };
    let index = usize::from(index);
    let mut buf = last.to_vec();
    let in_place = notes_algo::inverse_bwt_bytes_in_place(&mut buf, index);
    match notes_algo::inverse_bwt_bytes(last, index) {
        Ok(text) => {
            assert_eq!(notes_algo::bwt_bytes(&text), (last.to_vec(), index));
            assert!(in_place.is_ok());
            assert_eq!(buf, text);
        }
        Err(_) => assert!(in_place.is_err()),
    }
    if let Ok(text) = std::str::from_utf8(last) {
        if let Ok(restored) = notes_algo::inverse_bwt(text, index) {
            assert_eq!(notes_algo::bwt(&restored), (text.to_owned(), index));
        }
    }
});
