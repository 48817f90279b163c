from wgan_keras.models.dcgan_critic import DCGANCritic
from wgan_keras.models.dcgan_generator import DCGANGenerator
from wgan_keras.models.mlp_critic import MLPCritic
from wgan_keras.models.mlp_generator import MLPGenerator
from wgan_keras.models.resnet_critic import ResNetCritic
from wgan_keras.models.resnet_generator import ResNetGenerator
