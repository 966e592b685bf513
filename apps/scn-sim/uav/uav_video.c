/*
 * A minimal H.264 Baseline writer for the drone's test pattern: SPS, PPS,
 * I_PCM IDR pictures and all-skip P pictures (ITU-T H.264, sections
 * 7.3.2.1 SPS, 7.3.2.2 PPS, 7.3.3 slice header, 7.3.4 slice data, 7.3.5
 * macroblock layer). CAVLC, no deblocking, picture order type 2.
 */
#include "uav_video.h"

#include <math.h>
#include <string.h>

#define MBS_W (UAV_VIDEO_WIDTH / 16)
#define MBS_H (UAV_VIDEO_HEIGHT / 16)

/* An RBSP being written, bit by bit, most significant bit first. */
typedef struct bits {
    unsigned char buf[UAV_VIDEO_FRAME_MAX];
    size_t len; /* whole bytes */
    unsigned acc, nacc;
} bits;

static void put_bits(bits *b, uint32_t v, unsigned n)
{
    while (n--) {
        b->acc = (b->acc << 1) | ((v >> n) & 1u);
        if (++b->nacc == 8) {
            b->buf[b->len++] = (unsigned char)b->acc;
            b->acc = b->nacc = 0;
        }
    }
}

/* ue(v): Exp-Golomb, n leading zeros, then v + 1 in n + 1 bits. */
static void put_ue(bits *b, uint32_t v)
{
    uint64_t x = (uint64_t)v + 1;
    unsigned n = 0;

    while ((x >> (n + 1)) != 0)
        n++;
    put_bits(b, 0, n);
    put_bits(b, (uint32_t)x, n + 1);
}

/* se(v) for the zeros this stream needs. */
static void put_se0(bits *b)
{
    put_ue(b, 0);
}

static void align_zero(bits *b)
{
    while (b->nacc)
        put_bits(b, 0, 1);
}

static void trailing_bits(bits *b)
{
    put_bits(b, 1, 1);
    align_zero(b);
}

/* Start code, NAL header, and the RBSP with emulation prevention: no
 * 00 00 0x (x <= 3) inside a NAL unit. Returns the bytes written. */
static size_t emit(unsigned char *out, unsigned char header, const bits *b)
{
    size_t o = 0, zeros = 0;

    out[o++] = 0, out[o++] = 0, out[o++] = 0, out[o++] = 1;
    out[o++] = header;
    for (size_t i = 0; i < b->len; i++) {
        if (zeros >= 2 && b->buf[i] <= 3) {
            out[o++] = 3;
            zeros = 0;
        }
        out[o++] = b->buf[i];
        zeros = b->buf[i] == 0 ? zeros + 1 : 0;
    }
    return o;
}

static size_t sps(unsigned char *out, double fps)
{
    bits b;

    memset(&b, 0, sizeof(b));
    put_bits(&b, 66, 8);   /* profile_idc: Baseline */
    put_bits(&b, 0xC0, 8); /* constraint_set0/1: constrained baseline */
    put_bits(&b, 30, 8);   /* level_idc 3.0 */
    put_ue(&b, 0);         /* seq_parameter_set_id */
    put_ue(&b, 0);         /* log2_max_frame_num_minus4: frame_num in 4 bits */
    put_ue(&b, 2);         /* pic_order_cnt_type: output order = decode */
    put_ue(&b, 1);         /* max_num_ref_frames */
    put_bits(&b, 0, 1);    /* gaps_in_frame_num_value_allowed_flag */
    put_ue(&b, MBS_W - 1); /* pic_width_in_mbs_minus1 */
    put_ue(&b, MBS_H - 1); /* pic_height_in_map_units_minus1 */
    put_bits(&b, 1, 1);    /* frame_mbs_only_flag */
    put_bits(&b, 1, 1);    /* direct_8x8_inference_flag */
    put_bits(&b, 0, 1);    /* frame_cropping_flag */
    put_bits(&b, 1, 1);    /* vui_parameters_present_flag */
    put_bits(&b, 0, 4); /* aspect ratio, overscan, video signal, chroma loc */
    put_bits(&b, 1, 1); /* timing_info_present_flag: a frame is 2 ticks */
    put_bits(&b, 1000, 32);                           /* num_units_in_tick */
    put_bits(&b, (uint32_t)lround(fps * 2000.0), 32); /* time_scale */
    put_bits(&b, 1, 1); /* fixed_frame_rate_flag */
    put_bits(&b, 0, 5); /* nal/vcl hrd, pic_struct, bitstream_restriction */
    trailing_bits(&b);
    return emit(out, 0x67, &b);
}

static size_t pps(unsigned char *out)
{
    bits b;

    memset(&b, 0, sizeof(b));
    put_ue(&b, 0);      /* pic_parameter_set_id */
    put_ue(&b, 0);      /* seq_parameter_set_id */
    put_bits(&b, 0, 1); /* entropy_coding_mode_flag: CAVLC */
    put_bits(&b, 0, 1); /* bottom_field_pic_order_in_frame_present_flag */
    put_ue(&b, 0);      /* num_slice_groups_minus1 */
    put_ue(&b, 0);      /* num_ref_idx_l0_default_active_minus1 */
    put_ue(&b, 0);      /* num_ref_idx_l1_default_active_minus1 */
    put_bits(&b, 0, 3); /* weighted_pred_flag, weighted_bipred_idc */
    put_se0(&b);        /* pic_init_qp_minus26 */
    put_se0(&b);        /* pic_init_qs_minus26 */
    put_se0(&b);        /* chroma_qp_index_offset */
    put_bits(&b, 1, 1); /* deblocking_filter_control_present_flag */
    put_bits(&b, 0, 2); /* constrained_intra_pred, redundant_pic_cnt */
    trailing_bits(&b);
    return emit(out, 0x68, &b);
}

static size_t idr(unsigned char *out, uint64_t gop)
{
    bits b;
    unsigned step = (unsigned)(gop % 55) * UAV_VIDEO_STEP;

    memset(&b, 0, sizeof(b));
    put_ue(&b, 0);                      /* first_mb_in_slice */
    put_ue(&b, 7);                      /* slice_type: I, whole picture */
    put_ue(&b, 0);                      /* pic_parameter_set_id */
    put_bits(&b, 0, 4);                 /* frame_num */
    put_ue(&b, (uint32_t)(gop & 0xFF)); /* idr_pic_id: differs in a row */
    put_bits(&b, 0, 2); /* no_output_of_prior_pics, long_term_reference */
    put_se0(&b);        /* slice_qp_delta */
    put_ue(&b, 1);      /* disable_deblocking_filter_idc: pixels as coded */
    for (unsigned my = 0; my < MBS_H; my++) {
        for (unsigned mx = 0; mx < MBS_W; mx++) {
            put_ue(&b, 25); /* mb_type I_PCM */
            align_zero(&b);
            for (unsigned y = 0; y < 16; y++)
                for (unsigned x = 0; x < 16; x++)
                    put_bits(
                        &b, 16 + (2 * (mx * 16 + x) + my * 16 + y + step) % 220,
                        8);
            for (unsigned i = 0; i < 2 * 64; i++)
                put_bits(&b, 128, 8); /* Cb, Cr */
        }
    }
    trailing_bits(&b);
    return emit(out, 0x65, &b);
}

static size_t skipped(unsigned char *out, uint64_t n)
{
    bits b;

    memset(&b, 0, sizeof(b));
    put_ue(&b, 0);                                  /* first_mb_in_slice */
    put_ue(&b, 5);                                  /* slice_type: P */
    put_ue(&b, 0);                                  /* pic_parameter_set_id */
    put_bits(&b, (uint32_t)(n % UAV_VIDEO_GOP), 4); /* frame_num */
    put_bits(&b, 0, 1);        /* num_ref_idx_active_override_flag */
    put_bits(&b, 0, 1);        /* ref_pic_list_modification_flag_l0 */
    put_bits(&b, 0, 1);        /* adaptive_ref_pic_marking_mode_flag */
    put_se0(&b);               /* slice_qp_delta */
    put_ue(&b, 1);             /* disable_deblocking_filter_idc */
    put_ue(&b, MBS_W * MBS_H); /* mb_skip_run: every macroblock */
    trailing_bits(&b);
    return emit(out, 0x41, &b);
}

size_t uav_video_frame(uint64_t n, double fps, unsigned char *out)
{
    size_t len = 0;

    if (n % UAV_VIDEO_GOP)
        return skipped(out, n);
    len += sps(out, fps);
    len += pps(out + len);
    len += idr(out + len, n / UAV_VIDEO_GOP);
    return len;
}
