//! Decoders never panic, whatever the bytes.

use notes_ipc::{Limits, frame, pickle, store};
use proptest::prelude::*;

fn limits() -> Limits {
    Limits::default().with_max_len(1 << 16)
}

proptest! {
    #[test]
    fn frames_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = frame::recv_with::<_, (String, Vec<u64>, Option<Vec<u8>>)>(&mut &bytes[..], &limits());
        let _ = frame::recv_with::<_, serde_json::Value>(&mut &bytes[..], &limits());
        let _ = frame::read_frame(&mut &bytes[..], 1 << 16);
    }

    #[test]
    fn pickles_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = pickle::from_slice(&bytes, &limits());
    }

    #[test]
    fn pickle_opcode_soup_never_panics(ops in proptest::collection::vec(
        prop_oneof![
            Just(&b"("[..]), Just(&b"]"[..]), Just(&b"}"[..]), Just(&b")"[..]), Just(&b"a"[..]),
            Just(&b"e"[..]), Just(&b"s"[..]), Just(&b"u"[..]), Just(&b"t"[..]), Just(&b"l"[..]),
            Just(&b"2"[..]), Just(&b"0"[..]), Just(&b"1"[..]), Just(&b"N"[..]), Just(&b"K\x07"[..]),
            Just(&b"\x94"[..]), Just(&b"h\x00"[..]), Just(&b"h\x01"[..]), Just(&b"q\x00"[..]),
            Just(&b"\x85"[..]), Just(&b"\x86"[..]), Just(&b"\x8c\x01x"[..]), Just(&b"\x90"[..]),
            Just(&b"\x8f"[..]), Just(&b"\x91"[..]), Just(&b"R"[..]), Just(&b"c__builtin__\nset\n"[..]),
        ],
        0..64,
    )) {
        let mut bytes = b"\x80\x04".to_vec();
        for op in ops {
            bytes.extend_from_slice(op);
        }
        bytes.push(b'.');
        if let Ok(value) = pickle::from_slice(&bytes, &limits()) {
            // Whatever loads prints, and converts to JSON and to a pickle and back exactly.
            if let Ok(shown) = pickle::repr(&value) {
                let json = serde_json::to_string(&pickle::Json::new(&value, &limits()).unwrap()).unwrap();
                let back = pickle::from_json(&json, &limits()).unwrap();
                prop_assert_eq!(pickle::repr(&back).unwrap(), shown.clone());
                let again = pickle::from_slice(&pickle::value_to_vec(&value).unwrap(), &limits()).unwrap();
                prop_assert_eq!(pickle::repr(&again).unwrap(), shown);
            }
        }
    }

    #[test]
    fn data_files_never_panic(mut bytes in proptest::collection::vec(any::<u8>(), 0..256), header in any::<bool>()) {
        if header {
            let mut prefixed = store::MAGIC.to_vec();
            prefixed.extend_from_slice(&[1, 1]);
            prefixed.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
            prefixed.append(&mut bytes);
            bytes = prefixed;
        }
        let _ = store::from_bytes::<(String, Vec<u64>)>(&bytes, &limits());
    }

    #[test]
    fn values_round_trip(items in proptest::collection::vec((any::<i64>(), ".{0,8}", any::<bool>()), 0..20)) {
        let bytes = store::to_bytes(&items).unwrap();
        prop_assert_eq!(store::from_bytes::<Vec<(i64, String, bool)>>(&bytes, &limits()).unwrap(), items.clone());
        let pickled = pickle::to_vec(&items).unwrap();
        prop_assert_eq!(pickle::from_slice_as::<Vec<(i64, String, bool)>>(&pickled, &limits()).unwrap(), items);
    }
}
