#!/usr/bin/env bash
# Installs a build tree into a temporary prefix, then builds and runs a C and a C++ program
# against it: with CMake's find_package(accel) and with pkg-config (accel, accel-engine). Both
# results must equal the same numbers from the build tree's own library.
# Usage: install_test.sh BUILD_DIR CONSUMER_SRC_DIR MODELS_DIR
set -euo pipefail
build=$1 src=$2 models=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >"$work/install.log"
for f in lib/libaccel.so include/accel/accel.h include/accel/runtime/loaded_model.h bin/accel \
         lib/cmake/accel/accelConfig.cmake lib/pkgconfig/accel.pc share/accel/models/bert-tiny/config.json; do
  [ -e "$prefix/$f" ] || { echo "not installed: $f"; exit 1; }
done
model=$models/bert-tiny

# CMake: find_package(accel CONFIG) from the prefix.
cmake -S "$src" -B "$work/cmake" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" >"$work/configure.log" \
  || { cat "$work/configure.log"; exit 1; }
cmake --build "$work/cmake" >"$work/build.log" || { cat "$work/build.log"; exit 1; }
c_cmake=$(LD_LIBRARY_PATH=$prefix/lib "$work/cmake/consumer_c" "$model")
cpp_cmake=$("$work/cmake/consumer_cpp" "$model")

# pkg-config: accel.pc for the C API, accel-engine.pc for the C++ engine.
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
cc -o "$work/c_pc" "$src/consumer.c" $(pkg-config --cflags --libs accel) -Wl,-rpath,"$prefix/lib"
c++ -std=c++20 -O1 -o "$work/cpp_pc" "$src/consumer.cpp" $(pkg-config --cflags --libs accel-engine)
c_pc=$("$work/c_pc" "$model")
cpp_pc=$("$work/cpp_pc" "$model")

echo "$c_cmake"; echo "$cpp_cmake"; echo "$c_pc"; echo "$cpp_pc"
[ "$c_cmake" = "$c_pc" ] || { echo "C results differ"; exit 1; }
[ "$cpp_cmake" = "$cpp_pc" ] || { echo "C++ results differ"; exit 1; }
# The C and C++ programs computed the same first element.
[ "${c_cmake##* first }" = "${cpp_cmake##* first }" ] || { echo "C and C++ consumers disagree"; exit 1; }

# The installed CLI finds its bundled models beside it (share/accel/models), not in this checkout.
"$prefix/bin/accel" verify "$prefix/share/accel/models/bert-tiny" >"$work/verify.log" || { cat "$work/verify.log"; exit 1; }

# The installed Python module, where this build has one.
if compgen -G "$prefix/lib/python3/dist-packages/accel*.so" >/dev/null; then
  PYTHONPATH=$prefix/lib/python3/dist-packages /usr/bin/python3 -c \
    "import accel, sys; r = accel.verify(sys.argv[1]); assert r['ok'], r; print('python: installed module ok')" "$model"
fi
echo "install tree: ok"
