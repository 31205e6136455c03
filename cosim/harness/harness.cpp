// Plain C++ Verilator harness for a generated bnn_accel (no cocotb, no VPI): the simulator's
// own speed limit, measured on the same RTL and vectors as the cocotb regression.
//
// usage: harness STIMULUS RESULTS
// STIMULUS (little-endian uint32): magic 0x484e4e42 ("BNNH"), n_prog, prog_w32, n_images,
//   words_per_image, inp_w32, out_w32, fault seed, t01 lo, t01 hi, t10 lo, t10 hi, switch_only;
//   then n_prog programming payloads of prog_w32 words; then n_images * words_per_image input
//   payloads of inp_w32 words. Each payload is the port's value, least significant word first.
// RESULTS (uint32): per image out_w32 payload words, then the cycle (lo, hi) its result left;
//   then stream_cycles (lo, hi), stream_nanoseconds (lo, hi), prog_error.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "Vbnn_accel.h"
#include "verilated.h"

template <typename T> static void put(T& port, const uint32_t* w, int nw) {
    uint64_t v = w[0];
    if (nw > 1) v |= static_cast<uint64_t>(w[1]) << 32;
    port = static_cast<T>(v);
}
template <std::size_t N> static void put(VlWide<N>& port, const uint32_t* w, int nw) {
    for (std::size_t i = 0; i < N; i++) port[i] = static_cast<int>(i) < nw ? w[i] : 0;
}
template <typename T> static void get(const T& port, uint32_t* w, int nw) {
    uint64_t v = port;
    for (int i = 0; i < nw; i++) w[i] = i < 2 ? static_cast<uint32_t>(v >> (32 * i)) : 0;
}
template <std::size_t N> static void get(const VlWide<N>& port, uint32_t* w, int nw) {
    for (int i = 0; i < nw; i++) w[i] = static_cast<std::size_t>(i) < N ? port[i] : 0;
}

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s STIMULUS RESULTS\n", argv[0]);
        return 2;
    }
    std::FILE* f = std::fopen(argv[1], "rb");
    if (!f) { std::perror(argv[1]); return 2; }
    uint32_t h[13];
    if (std::fread(h, 4, 13, f) != 13 || h[0] != 0x484e4e42u) {
        std::fprintf(stderr, "%s: not a harness stimulus file\n", argv[1]);
        return 2;
    }
    const uint32_t n_prog = h[1], prog_w = h[2], n_img = h[3], wpi = h[4], inp_w = h[5], out_w = h[6];
    std::vector<uint32_t> prog(static_cast<std::size_t>(n_prog) * prog_w);
    std::vector<uint32_t> inp(static_cast<std::size_t>(n_img) * wpi * inp_w);
    if (std::fread(prog.data(), 4, prog.size(), f) != prog.size() ||
        std::fread(inp.data(), 4, inp.size(), f) != inp.size()) {
        std::fprintf(stderr, "%s: truncated\n", argv[1]);
        return 2;
    }
    std::fclose(f);

    Verilated::commandArgs(argc, argv);
    Vbnn_accel top;
    uint64_t cycle = 0;
    auto edge = [&] { top.clk = 1; top.eval(); top.clk = 0; cycle++; };

    top.clk = 0;
    top.rst = 1;
    top.inp___05Fvalid = 0;
    top.eval();
    for (int i = 0; i < 3; i++) { top.eval(); edge(); }
    top.rst = 0;
    top.fault___05Fseed = h[7];
    top.fault___05Ft01 = static_cast<uint64_t>(h[8]) | static_cast<uint64_t>(h[9]) << 32;
    top.fault___05Ft10 = static_cast<uint64_t>(h[10]) | static_cast<uint64_t>(h[11]) << 32;
    top.fault___05Fswitch_only = h[12];

    // programming: one word per prog transfer, then wait for prog_busy low
    for (uint32_t p = 0; p < n_prog; p++) {
        put(top.prog___05Fpayload, &prog[static_cast<std::size_t>(p) * prog_w], prog_w);
        top.prog___05Fvalid = 1;
        for (;;) {
            top.eval();
            bool fire = top.prog___05Fready;
            edge();
            if (fire) break;
        }
    }
    top.prog___05Fvalid = 0;
    for (;;) {
        top.eval();
        if (!top.prog_busy) break;
        edge();
    }
    edge();

    // stream every image back to back, output always ready
    std::vector<uint32_t> res(static_cast<std::size_t>(n_img) * (out_w + 2));
    const std::size_t n_words = static_cast<std::size_t>(n_img) * wpi;
    std::size_t sent = 0;
    uint32_t got = 0;
    top.out___05Fready = 1;
    const uint64_t c0 = cycle;
    auto t0 = std::chrono::steady_clock::now();
    while (got < n_img) {
        const bool valid = sent < n_words;
        top.inp___05Fvalid = valid;
        if (valid) put(top.inp___05Fpayload, &inp[sent * inp_w], inp_w);
        top.eval();
        const bool in_fire = valid && top.inp___05Fready;
        if (top.out___05Fvalid) {
            uint32_t* r = &res[static_cast<std::size_t>(got) * (out_w + 2)];
            get(top.out___05Fpayload, r, out_w);
            r[out_w] = static_cast<uint32_t>(cycle - c0);
            r[out_w + 1] = static_cast<uint32_t>((cycle - c0) >> 32);
            got++;
        }
        edge();
        if (in_fire) sent++;
    }
    const uint64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::steady_clock::now() - t0).count();
    const uint64_t cycles = cycle - c0;
    top.final();

    std::FILE* o = std::fopen(argv[2], "wb");
    if (!o) { std::perror(argv[2]); return 2; }
    uint32_t tail[5] = {static_cast<uint32_t>(cycles), static_cast<uint32_t>(cycles >> 32),
                        static_cast<uint32_t>(ns), static_cast<uint32_t>(ns >> 32), top.prog_error};
    std::fwrite(res.data(), 4, res.size(), o);
    std::fwrite(tail, 4, 5, o);
    std::fclose(o);
    return 0;
}
