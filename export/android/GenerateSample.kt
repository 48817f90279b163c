// Feeding z to a wgan-export .tflite generator and reading its uint8 `pixels` output (LiteRT / TFLite Interpreter).
// Relies on: signature "generate", input "z" float32[B, latentDim], outputs "images" float32[B, H, W, C]
// in [-1, 1] and "pixels" uint8[B, H, W, C] in [0, 255]. B is fixed in the file (export with --batch_size 1).
import android.graphics.Bitmap
import org.tensorflow.lite.Interpreter
import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.util.Random

fun generateBitmap(interpreter: Interpreter, seed: Long): Bitmap {
    val zShape = interpreter.getInputTensorFromSignature("z", "generate").shape()          // [1, latentDim]
    val pShape = interpreter.getOutputTensorFromSignature("pixels", "generate").shape()    // [1, H, W, C]
    val (h, w, c) = Triple(pShape[1], pShape[2], pShape[3])
    val rnd = Random(seed)
    val z = Array(zShape[0]) { FloatArray(zShape[1]) { rnd.nextGaussian().toFloat() } }  // z ~ N(0, 1)
    val pixels = ByteBuffer.allocateDirect(zShape[0] * h * w * c).order(ByteOrder.nativeOrder())
    interpreter.runSignature(mapOf("z" to z), mapOf("pixels" to pixels), "generate")
    pixels.rewind()
    val argb = IntArray(h * w) {
        val r = pixels.get().toInt() and 0xFF
        if (c == 1) (0xFF shl 24) or (r shl 16) or (r shl 8) or r
        else (0xFF shl 24) or (r shl 16) or ((pixels.get().toInt() and 0xFF) shl 8) or (pixels.get().toInt() and 0xFF)
    }
    return Bitmap.createBitmap(argb, w, h, Bitmap.Config.ARGB_8888)
}
