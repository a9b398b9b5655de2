//! Parse + redirect for a typical Primo article link, beside the floor: a bare form-urlencoded split
//! of the same string (split on `&` and `=`, `+` to space, percent-decode, UTF-8). DESIGN §6 target:
//! within 3x of the floor.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use floor::{PRIMO_ARTICLE, bare_split};
use openurl::{PatronTag, RelaisForm, parse};

mod floor;

fn primo_article(c: &mut Criterion) {
    let form = RelaisForm::new("https://relais.example.edu/user/login.html", "EXU").unwrap();
    let patron = PatronTag::Plain("2900123".to_owned());
    let mut group = c.benchmark_group("primo_article");
    group.bench_function("bare_form_urlencoded_split", |b| b.iter(|| bare_split(black_box(PRIMO_ARTICLE))));
    group.bench_function("parse_and_redirect", |b| {
        b.iter(|| {
            let citation = parse(black_box(PRIMO_ARTICLE)).unwrap();
            form.redirect_url(&citation, Some(&patron))
        })
    });
    group.bench_function("parse_only", |b| b.iter(|| parse(black_box(PRIMO_ARTICLE)).unwrap()));
    group.finish();
}

criterion_group!(benches, primo_article);
criterion_main!(benches);
