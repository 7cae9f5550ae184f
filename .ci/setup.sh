#!/usr/bin/env bash
# .ci/setup.sh - install what gst-stylefilter needs from Debian bookworm and
# build it into ./build.  Idempotent: packages already present are kept,
# an existing build directory is reused.  Runs apt-get through sudo when
# not root.
set -eu
cd "$(dirname "$0")/.."

packages=(
  meson ninja-build pkg-config gcc
  libglib2.0-dev libjson-glib-dev libgdk-pixbuf-2.0-dev
  libvulkan-dev glslang-tools mesa-vulkan-drivers vulkan-tools
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  libgstreamer-plugins-bad1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  python3-torch python3-torchvision python3-pil python3-numpy
  python3-gi gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0
  ges1.0-tools gir1.2-ges-1.0
  dpkg-dev debhelper
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" \
    || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  as_root=()
  [ "$(id -u)" -eq 0 ] || as_root=(sudo)
  echo "setup: installing ${missing[*]}"
  "${as_root[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq \
    --no-install-recommends "${missing[@]}"
fi

if [ ! -f build/build.ninja ]; then
  meson setup build
fi
meson compile -C build
