/**
 * nbdkit's random generator (common/include/random.h: xoshiro256** seeded by splitmix64) in
 * Python, for the interop scripts that predict the bytes of the random and sparse-random
 * plugins. Passing against nbdkit itself is what shows the transcription is right.
 */

export const NBDKIT_RANDOM_PYTHON = `
M = (1 << 64) - 1

def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & M

def xsrandom(seed):
    state = []
    for _ in range(4):
        seed = (seed + 0x9e3779b97f4a7c15) & M
        z = seed
        z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M
        z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M
        state.append(z ^ (z >> 31))
    return state

def xrandom(s):
    result = (rotl((s[1] * 5) & M, 7) * 9) & M
    t = (s[1] << 17) & M
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t
    s[3] = rotl(s[3], 45)
    return result
`;
