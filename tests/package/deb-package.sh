#!/usr/bin/env bash
# deb-package.sh - the Debian package end to end: build
# gstreamer1.0-stylefilter_<version>_<arch>.deb from a copy of this source
# tree with `dpkg-buildpackage -b -us -uc`, check what it holds and
# declares, install it with apt, find and run the element with no
# environment variables, remove it, and check that it is gone.  TAP output.
#
#   bash tests/package/deb-package.sh            # needs root or sudo
#
# It installs a package system-wide, so inside `meson test` it runs only
# when STYLEFILTER_PACKAGE_TEST=1 (.ci/run sets it) and skips otherwise;
# run by hand it always runs.  It refuses to start if the package is
# already installed, and removes what it installed on any exit.
set -u
src=$(cd "$(dirname "$0")/../.." && pwd)
n=0
failed=0
ok() {  # ok CONDITION-STATUS DESCRIPTION
  n=$((n + 1))
  if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi
}

if [ -n "${MESON_TEST_ITERATION:-}${STYLEFILTER_UNDER_MESON:-}" ] &&
   [ "${STYLEFILTER_PACKAGE_TEST:-0}" != 1 ]; then
  echo "1..0 # SKIP installs a system package: set STYLEFILTER_PACKAGE_TEST=1"
  exit 0
fi
for tool in dpkg-buildpackage dh apt-get dpkg-deb; do
  if ! command -v "$tool" >/dev/null; then
    echo "1..0 # SKIP no $tool (Debian: apt install dpkg-dev debhelper)"
    exit 0
  fi
done
as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if sudo -n true 2>/dev/null; then as_root=(sudo -n); else
    echo "1..0 # SKIP needs root or passwordless sudo to install"
    exit 0
  fi
fi
if dpkg-query -W -f='${Status}' gstreamer1.0-stylefilter 2>/dev/null |
   grep -q "ok installed"; then
  echo "Bail out! gstreamer1.0-stylefilter is installed already: remove it first"
  exit 1
fi

tmp=$(mktemp -d)
installed=0
cleanup() {
  if [ "$installed" -eq 1 ]; then
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
      apt-get remove -y -qq gstreamer1.0-stylefilter >/dev/null 2>&1
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# a copy of the tree as git sees it (committed and new files, no build/)
mkdir "$tmp/src"
if git -C "$src" rev-parse >/dev/null 2>&1; then
  (cd "$src" && git ls-files -co --exclude-standard -z |
     xargs -0 tar cf - --no-recursion) | tar xf - -C "$tmp/src"
else
  tar cf - -C "$src" --exclude=./build --exclude=./out . | tar xf - -C "$tmp/src"
fi
version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
arch=$(dpkg-architecture -q DEB_HOST_ARCH)
multiarch=$(dpkg-architecture -q DEB_HOST_MULTIARCH)
deb=$tmp/gstreamer1.0-stylefilter_${version}_${arch}.deb

start=$(date +%s)
(cd "$tmp/src" && DEB_BUILD_OPTIONS="parallel=$(nproc)" \
   dpkg-buildpackage -b -us -uc) >"$tmp/build.log" 2>&1
status=$?
echo "# dpkg-buildpackage: exit $status in $(( $(date +%s) - start )) s"
[ "$status" -eq 0 ] || tail -30 "$tmp/build.log" | sed 's/^/# /'
[ -f "$deb" ]
ok $? "dpkg-buildpackage -b -us -uc builds $(basename "$deb")"
if [ ! -f "$deb" ]; then echo "1..$n"; exit 1; fi

plugin=./usr/lib/$multiarch/gstreamer-1.0/libgststylefilter.so
dpkg-deb -c "$deb" | awk '{print $6}' >"$tmp/contents"
sed 's/^/# /' "$tmp/contents" | grep -v '/$'
grep -qx "$plugin" "$tmp/contents"
ok $? "the plugin is in /usr/lib/$multiarch/gstreamer-1.0/"
# nothing but the plugin and the package's docs
! grep -v '/$' "$tmp/contents" | grep -vx "$plugin" |
  grep -qv '^\./usr/share/doc/gstreamer1\.0-stylefilter/'
ok $? "it holds the plugin and its docs only"

depends=$(dpkg-deb -f "$deb" Depends)
echo "# Depends: $depends"
# what the plugin links, by package, against what it depends on
dpkg-deb -x "$deb" "$tmp/root"
missing=""
linked=""
for lib in $(objdump -p "$tmp/root/$plugin" | awk '/NEEDED/ {print $2}'); do
  path=$(ldconfig -p | awk -v l="$lib" '$1 == l {print $NF; exit}')
  pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -1 | cut -d: -f1)
  pkg=${pkg:-$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1)}
  echo "# links $lib: ${pkg:-?}"
  linked="$linked $pkg"
  case ", $depends," in
    *", $pkg "*|*", $pkg,"*) ;;
    *) missing="$missing $lib(${pkg:-?})" ;;
  esac
done
[ -z "$missing" ]
ok $? "it depends on the package of every library it links${missing:+, not on$missing}"
extra=""
for dep in $(echo "$depends" | sed 's/([^)]*)//g; s/,/ /g'); do
  case " $linked " in *" $dep "*) ;; *) extra="$extra $dep" ;; esac
done
[ -z "$extra" ]
ok $? "and on nothing it does not link${extra:+:$extra}"

# debian/control's XB-GStreamer-Elements, as the .deb spells it
elements=$(dpkg-deb -f "$deb" Gstreamer-Elements)
echo "# GStreamer-Elements: $elements, GStreamer-Version: $(dpkg-deb -f "$deb" Gstreamer-Version)"
[ "$elements" = stylefilter ]
ok $? "dh_gstscancodecs declares the element (XB-GStreamer-Elements)"

"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq "$deb" >"$tmp/install.log" 2>&1
status=$?
[ "$status" -eq 0 ] && installed=1
[ "$status" -eq 0 ] || sed 's/^/# /' "$tmp/install.log" | tail -10
ok $status "apt-get install ./$(basename "$deb")"

# a clean environment: no GST_PLUGIN_PATH, a new home (a new registry)
clean=(env -i PATH=/usr/bin:/bin HOME="$tmp/home" XDG_CACHE_HOME="$tmp/home/.cache")
mkdir -p "$tmp/home"
"${clean[@]}" gst-inspect-1.0 stylefilter >"$tmp/inspect" 2>&1
status=$?
grep -E "^  (Filename|Version)" "$tmp/inspect" | sed 's/^/# /'
[ "$status" -eq 0 ] && grep -Eq "^  Filename +(/usr)?/lib/$multiarch/gstreamer-1.0/libgststylefilter.so$" "$tmp/inspect"
ok $? "gst-inspect-1.0 stylefilter finds the installed element with no environment variables"

"${clean[@]}" gst-launch-1.0 -q videotestsrc num-buffers=2 ! \
  video/x-raw,width=32,height=24 ! videoconvert ! \
  stylefilter processing-size=16 iterations=1 first-iterations=1 ! \
  fakesink >"$tmp/launch" 2>&1
status=$?
[ "$status" -eq 0 ] || sed 's/^/# /' "$tmp/launch" | tail -5
ok $status "the installed element stylizes two frames in a pipeline"

"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get remove -y -qq gstreamer1.0-stylefilter >/dev/null 2>&1
ok $? "apt-get remove gstreamer1.0-stylefilter"
installed=0
rm -rf "$tmp/home"; mkdir -p "$tmp/home"
! "${clean[@]}" gst-inspect-1.0 stylefilter >/dev/null 2>&1 &&
  [ ! -e "/usr/lib/$multiarch/gstreamer-1.0/libgststylefilter.so" ]
ok $? "after removal the plugin is gone"

echo "1..$n"
exit $failed
