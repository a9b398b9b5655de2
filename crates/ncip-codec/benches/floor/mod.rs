//! The codec's floor: a bare quick-xml token pass. Shared by the criterion bench (`benches/codec.rs`) and the
//! instruction-count workloads (`examples/instructions` at the workspace root).

use quick_xml::Reader;
use quick_xml::events::Event;

/// The floor: every event of the document, nothing kept.
pub fn token_pass(bytes: &[u8]) -> usize {
    let mut reader = Reader::from_reader(bytes);
    let mut events = 0;
    loop {
        match reader.read_event() {
            Ok(Event::Eof) | Err(_) => return events,
            Ok(_) => events += 1,
        }
    }
}
