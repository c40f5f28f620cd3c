/**
 * Renderer and adapter names of software rasterisers (Mesa's llvmpipe,
 * SwiftShader, lavapipe, …): a "GPU" that is the CPU, slower than webasm, so
 * `auto` passes over it in the terminal (probe.ts) and in an exported page
 * (web/backend.ts). No imports: the browser bundle takes this module too.
 */
export const SOFTWARE_RENDERER = /llvmpipe|softpipe|swrast|lavapipe|swiftshader|software rasteri[sz]er|microsoft basic render/i;
