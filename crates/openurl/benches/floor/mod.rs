//! The OpenURL benchmark's input and floor: a Primo article link and a bare form-urlencoded split of it.
//! Shared by the criterion bench (`benches/openurl.rs`) and the instruction-count workloads
//! (`examples/instructions` at the workspace root).

/// A Primo VE "ILL" service link for a CDI article record, empty keys and the `infofi/` typo included.
pub const PRIMO_ARTICLE: &str = "ctx_ver=Z39.88-2004&ctx_enc=info:ofi/enc:UTF-8\
    &rfr_id=info:sid/primo.exlibrisgroup.com:primo3-Article-proquest&url_ctx_fmt=infofi/fmt:kev:mtx:ctx\
    &rft_val_fmt=info:ofi/fmt:kev:mtx:journal&rft.genre=article\
    &rft.atitle=Ocean%20acidification%20and%20the%20calcification%20of%20%3Ci%3EAcropora%3C/i%3E%20reefs\
    &rft.jtitle=Nature%20climate%20change&rft.btitle=&rft.aulast=Doney&rft.aufirst=Scott%20C.\
    &rft.auinit=S.%20C.&rft.au=Doney%2C%20Scott%20C.&rft.au=Fabry%2C%20Victoria%20J.\
    &rft.au=Feely%2C%20Richard%20A.&rft.date=2016-03-01&rft.volume=6&rft.issue=3&rft.spage=212\
    &rft.epage=219&rft.pages=212-219&rft.issn=1758-678X&rft.eissn=1758-6798&rft.isbn=\
    &rft_id=info:doi/10.1038%2Fnclimate2943&rft_id=info:pmid/&rft.pub=Nature%20Publishing%20Group\
    &rft.place=London&rft.object_id=&rft_dat=%3Cproquest%3E1234567%3C%2Fproquest%3E&svc_dat=CTO&rft.eisbn=";

/// The floor: what any query-string parser must do at least.
pub fn bare_split(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
