// Running a wgan-export .tflite generator on Android with LiteRT (org.tensorflow.lite.Interpreter):
// a whole list of latent vectors in, one Bitmap per vector out, for every --quantize mode.
//
// Contract (docs/export.md): signature "generate"; input "z" [B, latentDim]; outputs "images"
// [B, H, W, C] and "pixels" uint8 [B, H, W, C] = floor(images*127.5 + 128) clipped to 0..255.
// A conditional generator (wgan-train --conditional) has a second input "label" int32 [B] in every mode,
// full_int8 included: the class, 0 .. num_classes-1, named by class_names in the model's .json metadata.
// Pass `labels` (one class per z row) to generateBitmaps, e.g. List(16) { 7 } for sixteen 7s.
// B is fixed in the file (wgan-export --batch_size). Types by mode:
//   float32, float16, dynamic, int8, int16x8, qat: z float32, images float32, pixels uint8
//   int8/qat with --int8_io:                      z int8,    images float32, pixels uint8
//   full_int8 (microcontrollers, NPUs):           z int8,    images int8,    pixels uint8
// This file reads each tensor's own dataType() and quantizationParams(), so one code path serves all:
// z is quantized as q = clamp(rint(z / scale) + zeroPoint) (what wgan-sample does), images are
// dequantized as (q - zeroPoint) * scale, clipped to [-1, 1]. pixels is exact in every mode and needs no arithmetic.
//
// Reproducing a seed: wgan-sample draws z ~ N(0, 1) by the portable rule of wgan_edge.contract.latent_vectors
// (Philox4x32-10 -> Box-Muller in float64 -> float32; docs/export.md, "web"; export/web/wgan.js is a
// 60-line port a Kotlin one can follow, with StrictMath); java.util.Random.nextGaussian cannot reproduce
// those images. To show exactly the images of `wgan-sample --seed S` without a port, ship the z with the
// app (latentDim = the model's z width, N = samples):
//   python -c "from wgan_edge.contract import latent_vectors as f; f(N, latentDim, S).astype('<f4').tofile('z_S.f32')"
// and load it with loadZ(assets.open("z_S.f32").readBytes(), latentDim). For fresh samples any N(0, 1)
// source will do (randomGaussianZ below).
//
// Checked against LiteRT's published Java sources (github.com/google-ai-edge/LiteRT, commit f674577,
// tflite/java/src/main/java/org/tensorflow/lite/): Interpreter(ByteBuffer | File [, Options]) and
// Interpreter.Options.setNumThreads(int) [Interpreter.java, InterpreterApi.java];
// getInputTensorFromSignature(String, String), getOutputTensorFromSignature(String, String),
// runSignature(Map<String, Object>, Map<String, Object>, String) with ByteBuffer inputs/outputs
// [InterpreterApi.java]; getSignatureInputs(String) [Interpreter.java, InterpreterImpl.java]; Tensor.dataType(), shape(), numBytes(), quantizationParams() with
// QuantizationParams.getScale(): float and getZeroPoint(): int [Tensor.java]; DataType.FLOAT32,
// UINT8, INT8, INT16 [DataType.java]. Not compiled here (no Android SDK); Bitmap.createBitmap(IntArray,
// Int, Int, Bitmap.Config) is the Android SDK's, not checked against sources.
import android.graphics.Bitmap
import org.tensorflow.lite.DataType
import org.tensorflow.lite.Interpreter
import org.tensorflow.lite.Tensor
import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.util.Random

const val SIGNATURE = "generate"

/** z (any number of rows of latentDim floats) -> one Bitmap per row, in fixed batches of the model's B.
 *  labels: a conditional model's class per row (null for an unconditional model). */
fun generateBitmaps(interpreter: Interpreter, z: List<FloatArray>, labels: List<Int>? = null): List<Bitmap> {
    val conditional = "label" in interpreter.getSignatureInputs(SIGNATURE)
    require(conditional == (labels != null)) {
        if (conditional) "this generator is conditional: pass a class per z row" else "this generator takes no labels"
    }
    require(labels == null || labels.size == z.size) { "one label per z row: ${labels?.size} labels, ${z.size} rows" }
    val zTensor = interpreter.getInputTensorFromSignature("z", SIGNATURE)
    val pTensor = interpreter.getOutputTensorFromSignature("pixels", SIGNATURE)
    val (batch, latentDim) = zTensor.shape().let { it[0] to it[1] }
    val (h, w, c) = pTensor.shape().let { Triple(it[1], it[2], it[3]) }
    check(pTensor.dataType() == DataType.UINT8) { "pixels must be uint8, got ${pTensor.dataType()}" }
    val zBuf = ByteBuffer.allocateDirect(zTensor.numBytes()).order(ByteOrder.nativeOrder())
    val pBuf = ByteBuffer.allocateDirect(pTensor.numBytes()).order(ByteOrder.nativeOrder())
    val lBuf = ByteBuffer.allocateDirect(4 * batch).order(ByteOrder.nativeOrder())  // int32 [B]
    val bitmaps = ArrayList<Bitmap>(z.size)
    for (start in z.indices step batch) {
        zBuf.clear()
        for (row in 0 until batch) {  // the last batch is padded with zeros; its extra images are dropped
            val v = z.getOrNull(start + row) ?: FloatArray(latentDim)
            require(v.size == latentDim) { "z rows must have $latentDim values, got ${v.size}" }
            for (x in v) putQuantized(zBuf, zTensor, x)
        }
        zBuf.rewind()
        val inputs = mutableMapOf<String, Any>("z" to zBuf)
        if (labels != null) {  // padded rows take class 0; their images are dropped with the padding of z
            lBuf.clear()
            for (row in 0 until batch) lBuf.putInt(labels.getOrNull(start + row) ?: 0)
            lBuf.rewind()
            inputs["label"] = lBuf
        }
        pBuf.clear()
        interpreter.runSignature(inputs, mapOf<String, Any>("pixels" to pBuf), SIGNATURE)
        pBuf.rewind()
        for (row in 0 until batch) {
            val argb = IntArray(h * w) {
                val r = pBuf.get().toInt() and 0xFF
                if (c == 1) (0xFF shl 24) or (r shl 16) or (r shl 8) or r
                else (0xFF shl 24) or (r shl 16) or ((pBuf.get().toInt() and 0xFF) shl 8) or (pBuf.get().toInt() and 0xFF)
            }
            if (start + row < z.size) bitmaps.add(Bitmap.createBitmap(argb, w, h, Bitmap.Config.ARGB_8888))
        }
    }
    return bitmaps
}

/** Writes one float into a tensor's buffer in the tensor's own type (float32, or int8/uint8/int16 quantized). */
fun putQuantized(buf: ByteBuffer, tensor: Tensor, x: Float) {
    if (tensor.dataType() == DataType.FLOAT32) { buf.putFloat(x); return }
    val p = tensor.quantizationParams()
    // float32 division then round-half-even, as numpy does in wgan-sample: the same z gives the same q.
    val q = Math.rint((x / p.getScale()).toDouble()).toInt() + p.getZeroPoint()
    when (tensor.dataType()) {
        DataType.INT8 -> buf.put(q.coerceIn(-128, 127).toByte())
        DataType.UINT8 -> buf.put(q.coerceIn(0, 255).toByte())
        DataType.INT16 -> buf.putShort(q.coerceIn(-32768, 32767).toShort())
        else -> error("unsupported input type ${tensor.dataType()}")
    }
}

/** The float `images` (B*H*W*C values in [-1, 1]) of one batch of z rows, whatever their stored type. */
fun generateImages(interpreter: Interpreter, zBatch: List<FloatArray>): FloatArray {
    val zTensor = interpreter.getInputTensorFromSignature("z", SIGNATURE)
    val t = interpreter.getOutputTensorFromSignature("images", SIGNATURE)
    require(zBatch.size == zTensor.shape()[0]) { "the model takes batches of ${zTensor.shape()[0]} z" }
    val zBuf = ByteBuffer.allocateDirect(zTensor.numBytes()).order(ByteOrder.nativeOrder())
    for (v in zBatch) for (x in v) putQuantized(zBuf, zTensor, x)
    zBuf.rewind()
    val buf = ByteBuffer.allocateDirect(t.numBytes()).order(ByteOrder.nativeOrder())
    interpreter.runSignature(mapOf<String, Any>("z" to zBuf), mapOf<String, Any>("images" to buf), SIGNATURE)
    buf.rewind()
    val n = t.shape().fold(1) { a, b -> a * b }
    if (t.dataType() == DataType.FLOAT32) return FloatArray(n) { buf.getFloat() }
    val p = t.quantizationParams()
    return FloatArray(n) {
        val q = when (t.dataType()) {
            DataType.INT8 -> buf.get().toInt()
            DataType.UINT8 -> buf.get().toInt() and 0xFF
            DataType.INT16 -> buf.getShort().toInt()
            else -> error("unsupported output type ${t.dataType()}")
        }
        // full_int8: q = -128 (black) is -1.0039 on the pixel grid; the contract's range is [-1, 1]
        ((q - p.getZeroPoint()) * p.getScale()).coerceIn(-1f, 1f)
    }
}

/** z shipped as little-endian float32 (see the header: wgan-sample's z for a seed). */
fun loadZ(bytes: ByteArray, latentDim: Int): List<FloatArray> {
    val buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN)
    return List(bytes.size / 4 / latentDim) { FloatArray(latentDim) { buf.getFloat() } }
}

/** Fresh z ~ N(0, 1); NOT wgan-sample's z for the same seed (different generator). */
fun randomGaussianZ(n: Int, latentDim: Int, seed: Long): List<FloatArray> {
    val rnd = Random(seed)
    return List(n) { FloatArray(latentDim) { rnd.nextGaussian().toFloat() } }
}
