#!/usr/bin/env bash
# Compile time of `#[derive(Extract)]` against serde's derive alone.
#
# Generates a throwaway workspace under target/derive-compile/ with two crates that
# define the same 110 types (100 structs with nested, Vec, Option, String, number, bool
# and enum fields; 10 enums: unit, internally tagged and externally tagged with data):
# `serde_only` derives `Deserialize`, `with_extract` derives `Deserialize + Extract`.
# Dependencies are built once; then each crate alone is rebuilt RUNS times (default 3)
# in dev (non-incremental), dev incremental (a touched file) and release, and the best
# time of each is printed with the ratio, by the wall clock and by CPU time.
#
# With `--count`, each rebuild runs once with the compiler under valgrind's callgrind
# instead, and the script prints the compiler's instructions (deterministic from run to
# run, where the clock on a shared machine is not) with their ratio. Slow: about 50
# times a plain build.
#
# Usage: scripts/derive-compile/run.sh [RUNS]
#        scripts/derive-compile/run.sh --count
set -euo pipefail

count=0
if [ "${1:-}" = "--count" ]; then
    count=1
    shift
    command -v valgrind >/dev/null || { echo "--count needs valgrind" >&2; exit 1; }
fi
runs="${1:-3}"
repo="$(cd "$(dirname "$0")/../.." && pwd)"
root="$repo/target/derive-compile"
ws="$root/ws"
export CARGO_TARGET_DIR="$root/target"
export CARGO_PROFILE_DEV_DEBUG=0

rm -rf "$ws"
mkdir -p "$ws"
cp "$repo/Cargo.lock" "$ws/Cargo.lock"
cat > "$ws/Cargo.toml" <<TOML
[workspace]
members = ["serde_only", "with_extract"]
resolver = "3"
TOML

# The types, with `DERIVES` and `EXTRA` (the container attribute) substituted.
types() {
    local derives="$1" extra="$2"
    for e in $(seq 0 9); do
        echo "#[derive($derives)]"
        echo "$extra"
        case $((e % 3)) in
        0)
            echo '#[serde(rename_all = "snake_case")]'
            echo "pub enum E$e { First, SecondOne, ThirdValue, Fourth$e }" ;;
        1)
            echo '#[serde(tag = "type", rename_all = "snake_case")]'
            echo "pub enum E$e { Circle { radius: f64, label: String }, Rect { width: u32, height: u32, note: Option<String> }, Empty }" ;;
        2)
            echo "pub enum E$e { Text(String), Count(u64), Pair { a: i32, b: Vec<String> }, Nothing }" ;;
        esac
        echo
    done
    for s in $(seq 0 99); do
        echo "#[derive($derives)]"
        echo "$extra"
        if [ $((s % 4)) -eq 0 ]; then echo '#[serde(rename_all = "camelCase")]'; fi
        echo "pub struct S$s {"
        echo "    pub id: u64,"
        echo "    pub display_name: String,"
        echo "    pub kind: E$((s % 10)),"
        if [ $((s % 2)) -eq 0 ]; then echo "    pub note: Option<String>,"; fi
        if [ $((s % 3)) -eq 0 ]; then echo "    pub score: f64,"; echo "    pub active: bool,"; fi
        if [ $((s % 5)) -ne 1 ]; then echo "    pub tags: Vec<String>,"; fi
        if [ "$s" -gt 0 ] && [ $((s % 2)) -eq 1 ]; then echo "    pub child: Option<S$((s - 1))>,"; fi
        if [ "$s" -gt 1 ] && [ $((s % 3)) -eq 2 ]; then echo "    pub items: Vec<S$((s - 2))>,"; fi
        if [ $((s % 7)) -eq 0 ]; then echo "    pub count: u32,"; echo "    pub ratio: f32,"; echo "    pub maybe_count: Option<i64>,"; fi
        echo "}"
        echo
    done
}

make_crate() {
    local name="$1" deps="$2" derives="$3" extra="$4" header="$5"
    mkdir -p "$ws/$name/src"
    cat > "$ws/$name/Cargo.toml" <<TOML
[package]
name = "$name"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
$deps
TOML
    { echo "#![allow(dead_code)]"; echo "$header"; echo; types "$derives" "$extra"; } > "$ws/$name/src/lib.rs"
}

make_crate serde_only \
    "serde = { version = \"1\", features = [\"derive\"] }" \
    "Debug, Deserialize" "" "use serde::Deserialize;"
make_crate with_extract \
    "serde = { version = \"1\", features = [\"derive\"] }
instructor-core = { path = \"$repo/instructor-core\" }
instructor-macros = { path = \"$repo/instructor-macros\", features = [\"garde\"] }" \
    "Debug, Deserialize, Extract" '#[extract(crate = "::instructor_core")]' \
    "use instructor_macros::Extract;
use serde::Deserialize;"

cd "$ws"
echo "building dependencies (dev and release)..." >&2
cargo build --quiet --workspace
cargo build --quiet --workspace --release

# best_time CRATE MODE: the best of $runs rebuilds of that crate alone, as "WALL CPU"
# (seconds; CPU is user + system time of the compiler, which a busy machine disturbs
# less than the wall clock).
best_time() {
    local crate="$1" mode="$2" best="" best_cpu="" wall user sys cpu
    local args=(build --quiet -p "$crate")
    local incremental=0
    case "$mode" in
    release) args+=(--release) ;;
    incremental) incremental=1 ;;
    esac
    if [ "$incremental" = 1 ]; then
        CARGO_INCREMENTAL=1 cargo "${args[@]}"
    fi
    local times="$root/times"
    for _ in $(seq "$runs"); do
        touch "$ws/$crate/src/lib.rs"
        { TIMEFORMAT='%R %U %S'; time CARGO_INCREMENTAL=$incremental cargo "${args[@]}" 2>&3; } 3>&2 2>"$times"
        read -r wall user sys <"$times"
        cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')
        if [ -z "$best" ] || awk -v t="$wall" -v b="$best" 'BEGIN { exit !(t < b) }'; then best=$wall; fi
        if [ -z "$best_cpu" ] || awk -v t="$cpu" -v b="$best_cpu" 'BEGIN { exit !(t < b) }'; then best_cpu=$cpu; fi
    done
    printf '%.2f %.2f' "$best" "$best_cpu"
}

# instructions CRATE MODE: the compiler's instructions for one rebuild of that crate
# alone, counted by callgrind (`RUSTC_WORKSPACE_WRAPPER` runs only that crate's rustc
# under it; the proc macros run inside that process, so expansion is counted).
instructions() {
    local crate="$1" mode="$2"
    local args=(build --quiet -p "$crate")
    local incremental=0
    case "$mode" in
    release) args+=(--release) ;;
    incremental) incremental=1 ;;
    esac
    local wrapper="$root/count-rustc.sh" out="$root/count-$crate-$mode.cg"
    cat >"$wrapper" <<'SH'
#!/bin/sh
# rustc under callgrind when it compiles $COUNT_CRATE, plain rustc otherwise.
case " $* " in
*" --crate-name $COUNT_CRATE "*)
    exec valgrind --tool=callgrind --callgrind-out-file="$COUNT_OUT" -q "$@" ;;
esac
exec "$@"
SH
    chmod +x "$wrapper"
    export RUSTC_WORKSPACE_WRAPPER="$wrapper" COUNT_CRATE="" COUNT_OUT="$out"
    # A first build through the wrapper (its fingerprint differs), not under callgrind;
    # for the incremental mode it also leaves the state the counted rebuild reuses.
    touch "$ws/$crate/src/lib.rs"
    CARGO_INCREMENTAL=$incremental cargo "${args[@]}"
    touch "$ws/$crate/src/lib.rs"
    rm -f "$out"
    COUNT_CRATE="$crate" CARGO_INCREMENTAL=$incremental cargo "${args[@]}"
    unset RUSTC_WORKSPACE_WRAPPER COUNT_CRATE COUNT_OUT
    awk '/^(summary|totals):/ { print $2; exit }' "$out"
}

if [ "$count" = 1 ]; then
    printf '%-12s %16s %24s %7s\n' mode "Deserialize" "Deserialize + Extract" ratio
    for mode in dev incremental release; do
        a=$(instructions serde_only "$mode")
        b=$(instructions with_extract "$mode")
        ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { print b / a }')
        printf '%-12s %16s %24s %6.2fx\n' "$mode" "$a" "$b" "$ratio"
    done
    exit 0
fi

printf '%-12s %12s %22s %7s   %9s %9s %7s\n' mode "Deserialize" "Deserialize + Extract" ratio "CPU: D" "D + E" ratio
for mode in dev incremental release; do
    read -r a a_cpu <<<"$(best_time serde_only "$mode")"
    read -r b b_cpu <<<"$(best_time with_extract "$mode")"
    ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { print b / a }')
    ratio_cpu=$(awk -v a="$a_cpu" -v b="$b_cpu" 'BEGIN { print b / a }')
    printf '%-12s %11ss %21ss %6.2fx   %8ss %8ss %6.2fx\n' "$mode" "$a" "$b" "$ratio" "$a_cpu" "$b_cpu" "$ratio_cpu"
done
