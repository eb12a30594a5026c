#!/usr/bin/env bash
# Runs spike-bootstrap from the folder that scripts/collect-runtime makes, with
# an empty environment and no library from outside that folder, the way the
# container image's runtime stage runs it.
#
#   runtime_folder_test.sh folder     COLLECT_RUNTIME BINARY WORK_DIR
#   runtime_folder_test.sh image-root COLLECT_RUNTIME BINARY WORK_DIR
#
# "folder" runs the folder's own loader with --library-path set to that folder
# only. "image-root" lays out the image's root file system and runs
# /spike-bootstrap inside it with chroot, which needs root: without root it
# exits 77, the code CTest reports as skipped.
set -euo pipefail

[ $# -eq 4 ] || { echo "usage: $0 folder|image-root COLLECT_RUNTIME BINARY WORK_DIR" >&2; exit 2; }
mode=$1
collect_runtime=$2
binary=$3
work_dir=$4
name=$(basename "$binary")
source_dir=$(cd "$(dirname "$collect_runtime")/.." && pwd)

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

skip() {
  echo "SKIP: $*"
  exit 77
}

interpreter=$(readelf --program-headers "$binary" |
  sed -n 's/.*\[Requesting program interpreter: \(.*\)\]/\1/p')
[ -n "$interpreter" ] || fail "$binary has no program interpreter"
loader=$(basename "$interpreter")

# Checks that every library in a loader trace (ld.so --list output) resolved
# to a file under the given folder. The loader's own line names the loader
# that ran the trace, so it is left out.
expect_all_under() {
  local folder=$1 trace=$2 outside
  outside=$(awk -v dir="$folder/" -v interp="$interpreter" \
    '$2 == "=>" && $1 != interp && index($3, dir) != 1 { print }' <<<"$trace")
  [ -z "$outside" ] || fail "libraries resolved outside $folder:"$'\n'"$outside"
  if grep -q "not found" <<<"$trace"; then
    fail "libraries not found:"$'\n'"$trace"
  fi
}

expect_version_output() {
  local output=$1
  [[ $output == "spike-bootstrap "[0-9]* ]] || fail "unexpected --version output: $output"
}

run_folder() {
  local dir=$work_dir expected actual trace output

  rm -rf "$dir"
  "$collect_runtime" "$binary" "$dir"

  # The folder contains the binary, each library ldd lists and the loader, and
  # nothing else.
  expected=$( (echo "$name"; echo "$loader"
    ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// { print $1 }') | sort -u)
  actual=$(find "$dir" -mindepth 1 -maxdepth 1 -printf "%f\n" | sort)
  [ "$expected" = "$actual" ] ||
    fail "folder contents differ from ldd:"$'\n'"expected:"$'\n'"$expected"$'\n'"actual:"$'\n'"$actual"

  trace=$(env -i "$dir/$loader" --library-path "$dir" --list "$dir/$name")
  expect_all_under "$dir" "$trace"

  output=$(env -i "$dir/$loader" --library-path "$dir" "$dir/$name" --version) ||
    fail "--version exited $? from the collected folder"
  expect_version_output "$output"
  echo "ok: $name --version runs from $dir alone: $output"
}

run_image_root() {
  local root=$work_dir prefix=/opt/spike-bootstrap chroot_program libraries trace output status

  [ "$(id -u)" -eq 0 ] || skip "chroot needs root"
  # env -i clears PATH as well, so chroot is called by its full path.
  chroot_program=$(command -v chroot) || skip "chroot is not installed"
  # A sanitizer runtime reads /proc, which the bare root file system lacks.
  # grep reads a variable, not a pipe: with pipefail, grep -q closing the
  # pipe early would make ldd fail and hide the match.
  libraries=$(ldd "$binary")
  if grep -q -E 'libasan|libubsan|libtsan' <<<"$libraries"; then
    skip "$name is built with a sanitizer runtime"
  fi

  # The Dockerfile must start the binary the way this test does.
  grep -q "^ENV LD_LIBRARY_PATH=$prefix\$" "$source_dir/Dockerfile" ||
    fail "Dockerfile does not set ENV LD_LIBRARY_PATH=$prefix"
  grep -q "^ENTRYPOINT \[\"/$name\"\]\$" "$source_dir/Dockerfile" ||
    fail "Dockerfile ENTRYPOINT is not [\"/$name\"]"

  rm -rf "$root"
  "$collect_runtime" --image-root "$root" "$binary"
  [ -L "$root$interpreter" ] || fail "no loader link at $root$interpreter"
  [ -L "$root/$name" ] || fail "no program link at $root/$name"

  set +e
  output=$(env -i LD_LIBRARY_PATH=$prefix "$chroot_program" "$root" "/$name" --version 2>&1)
  status=$?
  set -e
  if [ $status -eq 125 ] && grep -q "cannot change root" <<<"$output"; then
    skip "chroot is not permitted here: $output"
  fi
  [ $status -eq 0 ] || fail "--version exited $status in the image layout: $output"
  expect_version_output "$output"

  trace=$(env -i LD_LIBRARY_PATH=$prefix "$chroot_program" "$root" "$interpreter" --list "/$name")
  expect_all_under "$prefix" "$trace"
  echo "ok: /$name --version runs in the image layout: $output"
}

case "$mode" in
  folder) run_folder ;;
  image-root) run_image_root ;;
  *) fail "unknown mode $mode" ;;
esac
