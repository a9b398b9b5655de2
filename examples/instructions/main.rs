//! The benchmarks' workloads, small enough to run once under callgrind: `scripts/bench-instructions` runs this
//! program and turns callgrind's instruction counts into the figures of docs/benchmarks.md. Instruction counts
//! repeat exactly for the same binary and input, whatever else the machine is doing, where wall time on a
//! shared two-core machine drifts too far to judge a 2x target.
//!
//! Two ways of counting, because the bridge's work crosses threads and the codec's does not:
//! - `instructions regions` prints one label per line and runs each labelled piece of work once inside
//!   [`measured`]. The script has callgrind collect only inside that function (`--toggle-collect`) and dump a
//!   profile each time it returns (`--dump-after`), so the n-th dump is the n-th label's cost. Every piece of
//!   work runs once before it is measured, so one-time set-up (lazy tables, the allocator's first pages) is not
//!   charged to it. Collection is per thread, which is exact here: the codec and OpenURL are single-threaded.
//! - `instructions bridge <case> <n>` sends n messages through the front door over an instant Alma and an
//!   in-memory embedded store (`benches/support/instant_alma.rs`, as the criterion bench does). The store's
//!   transactions run on tokio's blocking pool, another thread, so the script counts the whole program with n
//!   and with 2n messages and divides the difference by n: set-up, warm-up and shutdown cancel out.
//!
//! Run with the bench profile (release optimisations, symbols kept): `cargo run --profile bench --example
//! instructions -- regions`.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use bridge::ncip::{self, HeaderEdits, Problem, ReadOptions, ServiceKind};
use bridge::openurl::{self, PatronTag, RelaisForm};
use http_body_util::BodyExt;

#[path = "../../benches/support/instant_alma.rs"]
#[allow(dead_code)]
mod instant_alma;

#[path = "../../tests/e2e/support/messages.rs"]
#[allow(dead_code)]
mod messages;

#[path = "../../crates/ncip-codec/benches/floor/mod.rs"]
mod codec_floor;

#[path = "../../crates/openurl/benches/floor/mod.rs"]
mod openurl_floor;

/// Callgrind's collection is on only inside this function; see the module documentation.
#[inline(never)]
fn measured(work: &mut dyn FnMut() -> usize) -> usize {
    black_box(work())
}

/// One labelled piece of work.
struct Region {
    label: String,
    work: Box<dyn FnMut() -> usize>,
}

impl Region {
    fn new(label: impl Into<String>, work: impl FnMut() -> usize + 'static) -> Self {
        Region { label: label.into(), work: Box::new(work) }
    }
}

/// What the bridge edits in a message it forwards to Alma (`flows/forward.rs`): the institution as
/// ToAgencyId, the partner code as ApplicationProfileType, the patron identifier translated.
const EDITS: HeaderEdits<'static> = HeaderEdits {
    to_agency: Some("01DEMO_INST"),
    from_agency: None,
    application_profile_type: Some("RELAIS"),
    user_identifier: Some("21000000001"),
    user_identifier_type: None,
    item_agency: Some("01DEMO_INST"),
    user_agency: Some("01DEMO_INST"),
};

/// The forward path's codec work: read the message, patch it where the reading noted.
fn read_and_patch(bytes: &[u8], opts: &ReadOptions) -> usize {
    let message = ncip::read(bytes, opts).expect("only readable files are measured");
    let patched = ncip::patch_as_read(bytes, &message, &EDITS).expect("only forwardable files are patched");
    black_box(&message);
    patched.len()
}

/// A message the bridge does not forward (a response: Alma's answer, read by the bridge; a LookupVersion,
/// which the bridge answers itself) is only read.
fn forwarded(bytes: &[u8], opts: &ReadOptions) -> bool {
    ncip::read(bytes, opts).is_ok_and(|m| !m.is_response() && m.service() != ServiceKind::LookupVersion)
        && ncip::patch(bytes, &EDITS).is_ok()
}

/// The repository's NCIP fixtures, then the outside corpus (`$NCIP_CORPUS_DIR`, else `../shared/ncip-corpus`
/// beside the checkout) when it is there; only the files the reader accepts (the negative fixtures are
/// refused by design and answered with a Problem, which is not the forward path).
fn ncip_files() -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus =
        std::env::var_os("NCIP_CORPUS_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("../shared/ncip-corpus"));
    let folders = [
        ("fixtures/alma/", root.join("tests/fixtures/ncip/alma")),
        ("fixtures/dialects/", root.join("tests/fixtures/ncip/dialects")),
        ("corpus/", corpus),
    ];
    let opts = ReadOptions::default();
    let mut files = Vec::new();
    for (prefix, dir) in folders {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        let mut paths: Vec<PathBuf> =
            entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "xml")).collect();
        paths.sort();
        for path in paths {
            let bytes = std::fs::read(&path).expect("NCIP file is readable");
            if ncip::read(&bytes, &opts).is_ok() {
                let name = path.file_stem().unwrap().to_string_lossy();
                files.push((format!("{prefix}{name}"), bytes));
            }
        }
    }
    files
}

/// A LookupUser answer as the bridge writes one for a patron asked with name and address (the fields
/// `flows/lookup_user/answer.rs` fills: identifier, name, postal and e-mail address, privileges).
const LOOKUP_USER_ANSWER: &str = r#"<NCIPMessage xmlns="http://www.niso.org/2008/ncip" version="http://www.niso.org/schemas/ncip/v2_02/ncip_v2_02.xsd"><LookupUserResponse><ResponseHeader><FromAgencyId><AgencyId>01DEMO_INST</AgencyId></FromAgencyId><ToAgencyId><AgencyId>Relais</AgencyId></ToAgencyId></ResponseHeader><UserId><AgencyId>01DEMO_INST</AgencyId><UserIdentifierType>Barcode</UserIdentifierType><UserIdentifierValue>21000000001</UserIdentifierValue></UserId><UserOptionalFields><NameInformation><PersonalNameInformation><StructuredPersonalUserName><GivenName>Ada</GivenName><Surname>Lovelace</Surname></StructuredPersonalUserName></PersonalNameInformation></NameInformation><UserAddressInformation><UserAddressRoleType>Home</UserAddressRoleType><PhysicalAddress><StructuredAddress><Line1>2 New St</Line1><Line2>Flat 3</Line2><Locality>York</Locality><Region>N Yorks</Region><PostalCode>YO1</PostalCode><Country>United Kingdom</Country></StructuredAddress><PhysicalAddressType>Postal Address</PhysicalAddressType></PhysicalAddress></UserAddressInformation><UserAddressInformation><UserAddressRoleType>Multi-Purpose</UserAddressRoleType><ElectronicAddress><ElectronicAddressType>mailto</ElectronicAddressType><ElectronicAddressData>ada@example.edu</ElectronicAddressData></ElectronicAddress></UserAddressInformation><UserPrivilege><AgencyId>01DEMO_INST</AgencyId><AgencyUserPrivilegeType>PROFILE</AgencyUserPrivilegeType><UserPrivilegeStatus><UserPrivilegeStatusType>UG</UserPrivilegeStatusType></UserPrivilegeStatus><UserPrivilegeDescription>Undergraduate</UserPrivilegeDescription></UserPrivilege><UserPrivilege><AgencyId>01DEMO_INST</AgencyId><AgencyUserPrivilegeType>STATUS</AgencyUserPrivilegeType><UserPrivilegeStatus><UserPrivilegeStatusType>OK</UserPrivilegeStatusType></UserPrivilegeStatus></UserPrivilege></UserOptionalFields></LookupUserResponse></NCIPMessage>"#;

/// Every single-threaded figure, in the order the labels are printed.
fn regions() -> Vec<Region> {
    let opts = ReadOptions::default();
    let mut regions = Vec::new();
    for (name, bytes) in ncip_files() {
        let floor_bytes = bytes.clone();
        regions.push(Region::new(format!("ncip.token_pass.{name}"), move || {
            codec_floor::token_pass(black_box(&floor_bytes))
        }));
        let o = opts.clone();
        if forwarded(&bytes, &opts) {
            // Where a forwarded message's cost goes: the front door's peek, the read, the patch.
            let (b, o2) = (bytes.clone(), opts.clone());
            regions.push(Region::new(format!("ncip.part.peek.{name}"), move || {
                usize::from(ncip::peek(black_box(&b), &o2).is_ok())
            }));
            let (b, o2) = (bytes.clone(), opts.clone());
            regions.push(Region::new(format!("ncip.part.read.{name}"), move || {
                usize::from(ncip::read(black_box(&b), &o2).is_ok())
            }));
            let b = bytes.clone();
            let message = ncip::read(&bytes, &opts).expect("a forwarded file reads");
            regions.push(Region::new(format!("ncip.part.patch.{name}"), move || {
                ncip::patch_as_read(black_box(&b), &message, &EDITS).map_or(0, |p| p.len())
            }));
            regions.push(Region::new(format!("ncip.read_patch.{name}"), move || read_and_patch(black_box(&bytes), &o)));
        } else {
            regions.push(Region::new(format!("ncip.read.{name}"), move || {
                usize::from(ncip::read(black_box(&bytes), &o).is_ok())
            }));
        }
    }

    // Answers the bridge writes whole, beside the read of the request they answer.
    let lookup_user = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ncip/dialects/prefixed-namespace-lookup-user.xml"),
    )
    .expect("LookupUser fixture");
    let o = opts.clone();
    regions.push(Region::new("ncip.answer.lookup_user.read_request", move || {
        usize::from(ncip::read(black_box(&lookup_user), &o).is_ok())
    }));
    let answer = ncip::read(LOOKUP_USER_ANSWER.as_bytes(), &opts).expect("the LookupUser answer reads");
    regions.push(Region::new("ncip.answer.lookup_user.write", move || ncip::write(black_box(&answer)).len()));

    let accept_item = messages::accept_item("RL-1", "ILL-1", "21000000001").into_bytes();
    let request = ncip::read(&accept_item, &opts).expect("AcceptItem reads");
    let o = opts.clone();
    regions.push(Region::new("ncip.answer.problems.read_request", move || {
        usize::from(ncip::read(black_box(&accept_item), &o).is_ok())
    }));
    regions.push(Region::new("ncip.answer.problems.write", move || {
        let problem = Problem::unknown_user(&ServiceKind::AcceptItem, "21000000001");
        let answer = ncip::problem_response(ServiceKind::AcceptItem, request.initiation_header(), vec![problem]);
        ncip::write(black_box(&answer)).len()
    }));

    let form = RelaisForm::new("https://relais.example.edu/user/login.html", "EXU").expect("Relais form URL");
    let patron = PatronTag::Plain("2900123".to_owned());
    regions.push(Region::new("openurl.bare_split", || {
        openurl_floor::bare_split(black_box(openurl_floor::PRIMO_ARTICLE)).len()
    }));
    regions.push(Region::new("openurl.parse_redirect", move || {
        let citation = openurl::parse(black_box(openurl_floor::PRIMO_ARTICLE)).expect("the Primo link parses");
        form.redirect_url(&citation, Some(&patron)).len()
    }));
    regions
}

fn run_regions() {
    for mut region in regions() {
        // Once unmeasured, so one-time set-up is not charged to the figure.
        black_box((region.work)());
        println!("{}", region.label);
        measured(&mut region.work);
    }
}

/// A case of the bridge-overhead workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BridgeCase {
    /// A new AcceptItem each time: claim, forward, read the item back, commit record, history and answer.
    FirstDelivery,
    /// The same AcceptItem again: the stored answer.
    Replay,
    /// LookupVersion: codec, token check and dispatch only.
    LookupVersion,
}

impl BridgeCase {
    fn parse(name: &str) -> Option<Self> {
        match name {
            "first-delivery" => Some(BridgeCase::FirstDelivery),
            "replay" => Some(BridgeCase::Replay),
            "lookup-version" => Some(BridgeCase::LookupVersion),
            _ => None,
        }
    }
}

/// What `n` messages of one case got.
struct BridgeRun {
    /// The last answer's status and body.
    last: (u16, String),
    /// Store operations per message: reads, claims, commits, other writes.
    store_calls: [f64; 4],
}

/// Sends `n` messages of `case` through the front door.
fn run_bridge(case: BridgeCase, n: usize) -> BridgeRun {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let (router, calls) = instant_alma::front_door_counting_store_calls();
    let replayed = messages::accept_item("RL-replayed", "ILL-replayed", "21000000001");
    runtime.block_on(async {
        // The same warm-up in every run, so that it cancels out of the difference.
        let mut last = send(&router, replayed.clone()).await;
        let before = calls.snapshot();
        for i in 0..n {
            let body = match case {
                BridgeCase::FirstDelivery => {
                    messages::accept_item(&format!("RL-{i}"), &format!("ILL-{i}"), "21000000001")
                }
                BridgeCase::Replay => replayed.clone(),
                BridgeCase::LookupVersion => messages::lookup_version(),
            };
            last = send(&router, body).await;
        }
        let after = calls.snapshot();
        let per_message = std::array::from_fn(|i| (after[i] - before[i]) as f64 / n.max(1) as f64);
        BridgeRun { last, store_calls: per_message }
    })
}

async fn send(router: &axum::Router, body: String) -> (u16, String) {
    let response = instant_alma::answer(router, body).await;
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.expect("answer body").to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

const USAGE: &str = "usage: instructions regions | instructions bridge <first-delivery|replay|lookup-version> <n>";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["regions"] => run_regions(),
        ["bridge", case, n] => {
            let case = BridgeCase::parse(case).unwrap_or_else(|| panic!("{USAGE}"));
            let n: usize = n.parse().unwrap_or_else(|_| panic!("{USAGE}"));
            let run = run_bridge(case, n);
            let [reads, claims, commits, other] = run.store_calls;
            println!(
                "{}\nstore reads={reads:.2} claims={claims:.2} commits={commits:.2} other_writes={other:.2}",
                run.last.0
            );
            println!("{}", run.last.1);
        }
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_region_runs_and_the_fixtures_are_all_there() {
        let regions = regions();
        let files = regions.iter().filter(|r| r.label.starts_with("ncip.read_patch.fixtures/")).count();
        assert!(files >= 15, "expected the forwardable fixtures, found {files}");
        for mut region in regions {
            assert!((region.work)() > 0, "{} did no work", region.label);
        }
    }

    #[test]
    fn the_lookup_user_answer_is_what_the_bridge_writes_back() {
        let answer = ncip::read(LOOKUP_USER_ANSWER.as_bytes(), &ReadOptions::default()).unwrap();
        assert!(matches!(answer, ncip::Message::LookupUserResponse(ref r) if r.user_optional_fields.is_some()));
        assert_eq!(ncip::read(&ncip::write(&answer), &ReadOptions::default()).unwrap(), answer);
    }

    #[test]
    fn each_bridge_case_gets_its_answer() {
        for (case, service) in [
            (BridgeCase::FirstDelivery, "AcceptItemResponse"),
            (BridgeCase::Replay, "AcceptItemResponse"),
            (BridgeCase::LookupVersion, "LookupVersionResponse"),
        ] {
            let (status, body) = run_bridge(case, 2).last;
            assert_eq!(status, 200, "{case:?}");
            assert!(body.contains(service) && !body.contains("Problem"), "{case:?}: {body}");
        }
    }
}
