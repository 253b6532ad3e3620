// compile_error (syntax): the language model answered with PyTorch Python instead of C++.
class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(40, 10)

    def forward(self, x):
        return self.fc(x)
