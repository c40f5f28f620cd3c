#!/usr/bin/env bash
# Device benchmark for a machine with a GPU: `charlm bench` for small, medium and large × lstm, gru
# on webgpu (parameters resident on the device) and on webasm, in the same run, then what
# `--backend auto` chooses for each. Installs nothing; prints JSON lines only.
#
#   bench/gpu.sh                 # from the project root, after npm install
#   STEPS=5 bench/gpu.sh small   # fewer configurations, more timed steps
#
# Dawn reaches an NVIDIA GPU through Vulkan: it needs the Vulkan loader (libvulkan.so.1, Debian's
# libvulkan1) and the driver's ICD file. Where the loader is missing, extract it from Debian's
# package on any machine (apt-get download libvulkan1 && dpkg -x libvulkan1_*.deb vendor/vulkan)
# and point CHARLM_VULKAN_LIB_DIR at vendor/vulkan/usr/lib/x86_64-linux-gnu. Where the driver's
# libraries are there but no ICD file describes them (containers often mount only the libraries),
# one is written to a temporary folder for this run.
set -euo pipefail
cd "$(dirname "$0")/.."
configs=("${@:-small medium large}")
read -r -a configs <<<"${configs[*]}"
steps=${STEPS:-3}
charlm=(node bin/charlm)

if [[ -n "${CHARLM_VULKAN_LIB_DIR:-}" ]]; then
  export LD_LIBRARY_PATH="$CHARLM_VULKAN_LIB_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
icds=$(ls /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json 2>/dev/null | tr '\n' ' ' || true)
if [[ -z "$icds" && -z "${VK_ICD_FILENAMES:-}" ]]; then
  nvidia=$(ldconfig -p 2>/dev/null | awk '/libGLX_nvidia\.so\.0/ {print $NF; exit}')
  if [[ -n "$nvidia" ]]; then
    dir=$(mktemp -d)
    printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"1.3.0"}}\n' "$nvidia" >"$dir/nvidia_icd.json"
    export VK_ICD_FILENAMES="$dir/nvidia_icd.json"
    icds="$VK_ICD_FILENAMES (written for this run)"
  fi
fi
loader=$(ldconfig -p 2>/dev/null | grep -c 'libvulkan\.so\.1' || true)
[[ -n "${CHARLM_VULKAN_LIB_DIR:-}" && -e "$CHARLM_VULKAN_LIB_DIR/libvulkan.so.1" ]] && loader=1
gpu=$(command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -n 1 || echo none)
adapter=$(node --import tsx -e "
  const { probeWebGPU } = await import('./src/compute/probe.ts');
  const p = await probeWebGPU();
  console.log(JSON.stringify(p));
  process.exit(0);
" 2>/dev/null | tail -n 1)
node -e '
  const [gpu, loader, icds, adapter] = process.argv.slice(1);
  console.log(JSON.stringify({ machine: { nvidiaSmi: gpu, vulkanLoader: loader !== "0", vulkanIcds: icds.trim() || null, webgpu: JSON.parse(adapter || "null") } }));
' "$gpu" "$loader" "$icds" "$adapter"

for config in "${configs[@]}"; do
  for cell in lstm gru; do
    for backend in webgpu webasm; do
      "${charlm[@]}" bench --config "$config" --cell "$cell" --backend "$backend" --steps "$steps" --warmup 1 --sample --sample-chars 500 --json ||
        echo "{\"config\":\"$config\",\"cell\":\"$cell\",\"backend\":\"$backend\",\"failed\":true}"
    done
    "${charlm[@]}" bench --config "$config" --cell "$cell" --backend auto --steps 1 --warmup 0 --json ||
      echo "{\"config\":\"$config\",\"cell\":\"$cell\",\"backend\":\"auto\",\"failed\":true}"
  done
done
